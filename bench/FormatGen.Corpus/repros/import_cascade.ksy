meta:
  id: import_cascade
  imports:
    - imported_point
seq:
  - id: p
    type: imported_point
  - id: sum
    size: p.x
