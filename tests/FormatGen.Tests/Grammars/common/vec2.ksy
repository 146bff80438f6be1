meta:
  id: vec2
  endian: le
  imports:
    - shape_kinds
  -fg-namespace: Snapshots.Common
doc: A vector, imported by imports.ksy; it imports shape_kinds in turn.
seq:
  - id: x
    type: s2
  - id: y
    type: s2
  - id: kind
    type: u1
    enum: shape_kinds::kind
types:
  range:
    seq:
      - id: lo
        type: u1
      - id: hi
        type: u1
instances:
  length_sq:
    value: x * x + y * y
