meta:
  id: as_bytes
seq:
  - id: a
    type: u1
instances:
  text:
    value: '[a + 0x40, 0x41].as<bytes>.to_s("ASCII")'
