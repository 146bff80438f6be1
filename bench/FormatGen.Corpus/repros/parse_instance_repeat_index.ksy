meta:
  id: parse_instance_repeat_index
seq:
  - id: ofs
    type: u1
    repeat: expr
    repeat-expr: 3
instances:
  blocks:
    type: 'block(ofs[_index], ofs[_index + 1])'
    repeat: expr
    repeat-expr: 2
types:
  block:
    params:
      - id: start
        type: u1
      - id: end
        type: u1
    seq:
      - id: a
        type: u1
