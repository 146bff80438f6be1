meta:
  id: above
  endian: le
  encoding: ASCII
  -fg-namespace: Snapshots.Above
doc: Values of every kind read from above, through _root and _parent - a string, a float, a byte array, a model and lists.
seq:
  - id: magic
    size: 2
  - id: name
    type: strz
  - id: ratio
    type: f4
  - id: hdr
    type: hdr
  - id: sizes
    type: u1
    repeat: expr
    repeat-expr: 2
  - id: body
    type: body
types:
  hdr:
    seq:
      - id: count
        type: u1
  body:
    seq:
      - id: items
        type: item
        repeat: expr
        repeat-expr: _root.hdr.count
  item:
    seq:
      - id: data
        size: _parent._parent.sizes[0]
    instances:
      owner_name:
        value: _root.name
      half_ratio:
        value: _root.ratio / 2
      magic_first:
        value: _root.magic[0]
      header:
        value: _root.hdr.count
