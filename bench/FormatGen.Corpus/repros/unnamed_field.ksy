meta:
  id: unnamed_field
seq:
  - type: u1
  - type: u1
  - id: value
    type: u1
