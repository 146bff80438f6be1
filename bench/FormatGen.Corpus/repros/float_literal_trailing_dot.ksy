meta:
  id: float_literal_trailing_dot
seq:
  - id: raw
    type: u1
instances:
  scaled:
    value: raw * 24000.
