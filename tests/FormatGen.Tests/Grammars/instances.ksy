meta:
  id: instances
  endian: le
  -fg-namespace: Snapshots.Instances
doc: Parse instances, read when first asked for - at a position of the type's stream or the root's, sized, typed, repeated, conditional - and a seq field sized by one.
seq:
  - id: ofs_table
    type: u2
  - id: num_entries
    type: u1
  - id: ofs_name
    type: u2
  - id: echo
    size: name.length
  - id: body
    size: 8
    type: block
instances:
  entries:
    pos: ofs_table
    type: entry
    repeat: expr
    repeat-expr: num_entries
  name:
    pos: ofs_name
    type: strz
    encoding: ASCII
  magic_again:
    pos: 0
    size: 2
  tail_word:
    pos: _io.size - 2
    type: u2be
  first_entry_kind:
    value: entries[0].kind
  maybe:
    pos: 1
    type: u1
    if: num_entries > 1
types:
  entry:
    seq:
      - id: kind
        type: u1
      - id: value
        type: u2
  block:
    seq:
      - id: a
        type: u4
    instances:
      hidden:
        pos: 6
        type: u2
      from_root:
        io: _root._io
        pos: 0
        type: u1
