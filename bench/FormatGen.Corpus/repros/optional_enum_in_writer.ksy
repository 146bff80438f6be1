meta:
  id: optional_enum_in_writer
seq:
  - id: has_tag
    type: u1
  - id: tag
    type: u1
    enum: tag_kind
    if: has_tag != 0
  - id: body
    type:
      switch-on: tag
      cases:
        tag_kind::one: one
        tag_kind::two: two
        tag_kind::three: two
    if: has_tag != 0
types:
  one:
    seq:
      - id: a
        type: u1
  two:
    seq:
      - id: b
        type: u1
enums:
  tag_kind:
    1: one
    2: two
    3: three
