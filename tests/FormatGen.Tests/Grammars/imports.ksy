meta:
  id: imports
  endian: le
  imports:
    - common/vec2
    - common/shape_kinds
  -fg-namespace: Snapshots.Imports
doc: Types and enums of other grammars (meta/imports), directly and through an import of an import.
seq:
  - id: shape
    type: u1
    enum: shape_kinds::kind
  - id: origin
    type: vec2
  - id: span
    type: vec2::range
  - id: corner
    size: 6
    type: vec2
  - id: body
    size: 5
    type:
      switch-on: shape
      cases:
        'shape_kinds::kind::circle': vec2
        'shape_kinds::kind::square': point
types:
  point:
    seq:
      - id: a
        type: u1
      - id: b
        type: u1
instances:
  origin_far:
    value: origin.length_sq > 100
  is_round:
    value: shape == shape_kinds::kind::circle
