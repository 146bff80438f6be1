meta:
  id: multiline_type_args
seq:
  - id: item
    type: |
      pair(
        1,
        2
      )
types:
  pair:
    params:
      - id: a
        type: u1
      - id: b
        type: u1
    seq:
      - id: v
        type: u1
