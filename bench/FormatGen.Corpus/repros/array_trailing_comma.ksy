meta:
  id: array_trailing_comma
seq:
  - id: index
    type: u1
instances:
  picked:
    value: '[10, 20, 30,][index % 3]'
