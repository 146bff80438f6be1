meta:
  id: no_endian
  file-extension: fgnoendian
seq:
  - id: a
    type: u1
  - id: b
    type: u2le
