meta:
  id: parse_instance_switch
seq:
  - id: kind
    type: u1
  - id: ofs
    type: u1
instances:
  body:
    pos: ofs
    size: 1
    type:
      switch-on: kind
      cases:
        1: one
types:
  one:
    seq:
      - id: a
        type: u1
