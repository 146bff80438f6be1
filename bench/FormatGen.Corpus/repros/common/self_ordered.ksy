meta:
  id: self_ordered
seq:
  - id: order
    type: u1
  - id: body
    type: body
types:
  body:
    meta:
      endian:
        switch-on: _root.order
        cases:
          0: be
          1: le
    seq:
      - id: value
        type: u2
