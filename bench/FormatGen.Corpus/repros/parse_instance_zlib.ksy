meta:
  id: parse_instance_zlib
seq:
  - id: ofs
    type: u1
  - id: len
    type: u1
instances:
  packed:
    pos: ofs
    size: len
    process: zlib
