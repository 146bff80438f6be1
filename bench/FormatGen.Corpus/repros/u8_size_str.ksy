meta:
  id: u8_size_str
  endian: le
seq:
  - id: len_name
    type: u8
  - id: name
    type: str
    size: len_name
    encoding: UTF-8
