meta:
  id: lists
  endian: le
  encoding: UTF-8
  -fg-namespace: Snapshots.Lists
doc: Repeated strings and byte arrays, sized and terminated, in every repeat form.
seq:
  - id: count
    type: u1
  - id: names
    type: strz
    repeat: expr
    repeat-expr: count
  - id: codes
    type: str
    size: 2
    encoding: ASCII
    repeat: expr
    repeat-expr: 2
  - id: blocks
    size: 3
    repeat: until
    repeat-until: _[0] == 0xff
  - id: words
    terminator: 0x20
    repeat: until
    repeat-until: _.size == 0
  - id: tail
    type: strz
    repeat: eos
instances:
  first_name:
    value: names[0]
  last_block_first:
    value: blocks.last[0]
  code_count:
    value: codes.size
