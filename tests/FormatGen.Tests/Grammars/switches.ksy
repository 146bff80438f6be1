meta:
  id: switches
  endian: le
  encoding: ASCII
  -fg-namespace: Snapshots.Switches
doc: |
  Switches as Kaitai has them: primitive and string case types, a default
  case, one case type for several keys, no size, switches on strings and on
  list elements, and repeats of switched types, each element in its own size.
  (An integer or float case of a switch with a size is read within the size
  here, as Kaitai's user guide says; Kaitai's compiler reads it without the
  size: docs/kaitai-oracle.md.)
seq:
  - id: count
    type: u1
  - id: items
    type: item
    repeat: expr
    repeat-expr: count
  - id: mode
    type: str
    size: 2
  - id: by_name
    type:
      switch-on: mode
      cases:
        '"ab"': u2
        '"cd"': strz
        _: point
  - id: tags
    type: u1
    repeat: expr
    repeat-expr: 2
  - id: bodies
    size: 3
    repeat: expr
    repeat-expr: 2
    type:
      switch-on: tags[_index]
      cases:
        1: point
        2: strz
  - id: boxes
    type: point
    size: 4
    repeat: expr
    repeat-expr: 2
    doc: Each point in 4 octets; the 2 it does not use are its slack.
types:
  item:
    seq:
      - id: kind
        type: u1
      - id: len
        type: u1
      - id: body
        size: len
        type:
          switch-on: kind
          cases:
            1: point
            2: point
            4: str
      - id: number
        doc: Integer and float cases, without a size (see the note above).
        type:
          switch-on: kind
          cases:
            3: u4
            5: f4
      - id: tail
        doc: Read only for kind 1; for any other kind nothing is read.
        type:
          switch-on: kind
          cases:
            1: u1
  point:
    seq:
      - id: x
        type: s1
      - id: y
        type: s1
