meta:
  id: parse_instance_u8_size
  endian: le
seq:
  - id: ofs
    type: u8
  - id: len
    type: u8
instances:
  data:
    pos: ofs
    size: len
