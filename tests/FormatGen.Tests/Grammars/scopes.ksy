meta:
  id: scopes
  endian: le
  -fg-namespace: Snapshots.Scopes
doc: |
  Names as Kaitai scopes them: the same type and enum names in different
  scopes, paths a::b::c, and enums with negative values.
seq:
  - id: marker
    type: s4
    enum: marker
  - id: outer
    type: item
  - id: inner
    type: box::item
  - id: shade
    type: u1
    enum: box::item::colour
  - id: box
    type: box
instances:
  is_end:
    value: marker == marker::end
  is_red:
    value: shade == box::item::colour::red
  marker_value:
    value: marker.to_i
enums:
  marker:
    -2: end
    -1: skip
    0: none
    0x7fffffff: max
  colour:
    1: black
    2: white
types:
  item:
    doc: The top-level item; box has its own.
    seq:
      - id: colour
        type: u1
        enum: colour
  box:
    seq:
      - id: item
        type: item
      - id: plain
        type: plain_item
    types:
      item:
        seq:
          - id: colour
            type: u1
            enum: colour
          - id: code
            type: s2
        enums:
          colour:
            1: red
            2: green
            -1: none
      plain_item:
        seq:
          - id: top
            type: u1
            enum: marker
            doc: An enum from the root scope, found by walking outwards.
