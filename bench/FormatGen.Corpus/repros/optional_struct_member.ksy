meta:
  id: optional_struct_member
  endian: le
seq:
  - id: version
    type: u1
  - id: dtb
    type: load
    if: version > 1
instances:
  dtb_addr:
    value: 'dtb.addr > 0 ? dtb.addr : 0'
    if: version > 1
types:
  load:
    seq:
      - id: size
        type: u4
      - id: addr
        type: u8
