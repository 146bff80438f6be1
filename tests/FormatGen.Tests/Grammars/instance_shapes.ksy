meta:
  id: instance_shapes
  endian: le
  -fg-namespace: Snapshots.InstanceShapes
doc: >
  Parse instances of every shape the public corpus uses: a tree of a type that
  contains itself, a switch, a repeat whose arguments read _index, a size
  from a u8, types that read _parent and _root under parse instances, and a
  list of padded, terminated strings.
seq:
  - id: kind
    type: u1
  - id: ofs_tree
    type: u1
  - id: ofs_body
    type: u1
  - id: starts
    type: u1
    repeat: expr
    repeat-expr: 3
  - id: len_data
    type: u8
  - id: names
    type: str
    size: 4
    pad-right: 0x20
    terminator: 0
    encoding: ASCII
    repeat: expr
    repeat-expr: 2
instances:
  tree:
    pos: ofs_tree
    type: node
  body:
    pos: ofs_body
    size: 2
    type:
      switch-on: kind
      cases:
        1: one
        2: two
  blocks:
    pos: 0
    type: 'block(starts[_index], starts[_index + 1])'
    repeat: expr
    repeat-expr: 2
  data:
    pos: 0
    size: len_data
  framed:
    pos: 1
    type: chunk
  tagged:
    pos: 0
    type:
      switch-on: kind
      cases:
        1: sized(kind)
        2: sized(kind + 1)
types:
  chunk:
    doc: Sized by a field of its parent, the type of the instance that reads it.
    seq:
      - id: data
        size: _parent.starts[0]
    instances:
      kind_of_root:
        value: _root.kind
  node:
    seq:
      - id: has_children
        type: u1
      - id: left
        type: node
        if: has_children != 0
      - id: right
        type: node
        if: has_children != 0
    instances:
      is_branch:
        value: has_children != 0
  sized:
    doc: Read by a parse instance whose switch passes each case its argument (ELF's program headers).
    params:
      - id: n
        type: u1
    seq:
      - id: data
        size: n
  one:
    seq:
      - id: a
        type: u1
  two:
    seq:
      - id: magic
        contents: [0x34]
      - id: a
        type: u1
  block:
    params:
      - id: start
        type: u1
      - id: end
        type: u1
    instances:
      span:
        value: end - start
      piece:
        pos: start
        type: piece
  piece:
    doc: Reads _root through a parse instance of a type that is not the root, and its parent's instance.
    seq:
      - id: head
        size: _root.kind
    instances:
      parent_span:
        value: _parent.span
