meta:
  id: params
  endian: le
  encoding: ASCII
  -fg-namespace: Snapshots.Params
doc: Parameters of every Kaitai type - integer with an enum, float, string, bytes, a list, a user type, any type (struct), a stream (io), bool.
seq:
  - id: kind
    type: u1
    enum: kind
  - id: ratio
    type: f4
  - id: label
    type: strz
  - id: key
    size: 2
  - id: counts
    type: u1
    repeat: expr
    repeat-expr: 3
  - id: head
    type: head
  - id: body
    type: body(kind, ratio, label, key, counts, head, head, _io, kind == kind::big)
types:
  head:
    seq:
      - id: n
        type: u1
  body:
    params:
      - id: k
        type: u1
        enum: kind
      - id: r
        type: f4
      - id: name
        type: str
      - id: secret
        type: bytes
      - id: sizes
        type: u1[]
      - id: h
        type: head
      - id: any
        type: struct
      - id: parent_io
        type: io
      - id: big
        type: bool
    seq:
      - id: items
        type: u1
        repeat: expr
        repeat-expr: sizes[0] + h.n
      - id: extra
        size: secret.size
        if: big
    instances:
      from_parent:
        io: parent_io
        pos: 0
        type: u1
      name_len:
        value: name.length
      double_r:
        value: r * 2
      any_n:
        value: any.as<head>.n
      parent_size:
        value: parent_io.size
      is_big_kind:
        value: k == kind::big
enums:
  kind:
    1: small
    2: big
