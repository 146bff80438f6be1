meta:
  id: switch_value_arith
  endian: le
seq:
  - id: wide
    type: u1
  - id: num
    type:
      switch-on: wide
      cases:
        0: u1
        1: u2
instances:
  num_plus_one:
    value: num + 1
