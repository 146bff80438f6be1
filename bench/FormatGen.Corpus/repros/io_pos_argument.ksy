meta:
  id: io_pos_argument
seq:
  - id: items
    type: item(_io.pos)
    repeat: eos
types:
  item:
    params:
      - id: ofs
        type: u8
    seq:
      - id: len
        type: u1
      - id: body
        size: len
    instances:
      first:
        pos: ofs
        type: u1
