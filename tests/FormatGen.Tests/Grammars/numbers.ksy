meta:
  id: numbers
  endian: be
  bit-endian: be
  -fg-namespace: Snapshots.Numbers
doc: Bit-sized integers in both bit orders, and floats.
seq:
  - id: flag
    type: b1
    doc: A one-bit field is a boolean.
  - id: version
    type: b3
  - id: kind
    type: b4
  - id: big
    type: b12
  - id: small
    type: b4
  - id: aligned
    type: u1
    doc: A whole octet after bit fields starts at the next octet.
  - id: low
    type: b3le
  - id: high
    type: b5le
  - id: wide
    type: b25
  - id: wider
    type: b15
  - id: odd
    type: b7
  - id: single
    type: f4
  - id: double_le
    type: f8le
  - id: levels
    type: b2
    repeat: expr
    repeat-expr: 4
instances:
  total:
    value: version + kind + small
  ratio:
    value: single / 2
  is_large:
    value: double_le > 1000.5
