meta:
  id: unary_plus
seq:
  - id: raw
    type: s1
instances:
  sign:
    value: '(raw < 0 ? -1 : +1) * raw'
