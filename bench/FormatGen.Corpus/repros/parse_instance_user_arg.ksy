meta:
  id: parse_instance_user_arg
seq:
  - id: first
    type: step
instances:
  chain:
    pos: 0
    type: walk(first, 2)
types:
  step:
    seq:
      - id: value
        type: u1
  walk:
    params:
      - id: current
        type: step
      - id: left
        type: u1
    instances:
      next:
        pos: 0
        type: walk(current, left - 1)
        if: left > 0
