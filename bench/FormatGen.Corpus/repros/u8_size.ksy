meta:
  id: u8_size
  endian: le
seq:
  - id: len_body
    type: u8
  - id: body
    size: len_body
