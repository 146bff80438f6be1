meta:
  id: parse_instance_cascade
seq:
  - id: ofs
    type: u1
instances:
  body:
    pos: ofs
    type: u1
    repeat: expr
    repeat-expr: 2
    if: ofs != 0
  first:
    value: body[0]
