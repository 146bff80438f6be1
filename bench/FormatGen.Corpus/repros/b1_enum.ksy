meta:
  id: b1_enum
seq:
  - id: mode
    type: b1
    enum: mode
  - id: rest
    type: b7
enums:
  mode:
    0: off
    1: on
