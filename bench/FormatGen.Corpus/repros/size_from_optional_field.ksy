meta:
  id: size_from_optional_field
seq:
  - id: has_body
    type: u1
  - id: len_body
    type: u1
    if: has_body != 0
  - id: body
    size: len_body
    if: has_body != 0
