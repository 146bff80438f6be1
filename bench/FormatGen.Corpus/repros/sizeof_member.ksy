meta:
  id: sizeof_member
  endian: le
seq:
  - id: header
    type: header
  - id: rest
    size: header.len_total - header._sizeof
types:
  header:
    seq:
      - id: len_total
        type: u4
      - id: flags
        type: u2
