meta:
  id: imported_point
seq:
  - id: x
    type: u1
