meta:
  id: bits_in_switch
seq:
  - id: width
    type: u1
  - id: digits
    type:
      switch-on: width
      cases:
        4: b4
        8: u1
    repeat: expr
    repeat-expr: 2
