meta:
  id: idioms
  endian: le
  bit-endian: be
  -fg-namespace: Snapshots.Idioms
doc: Idioms of real Kaitai grammars (each one from the public corpus), read, written and compared with Kaitai.
seq:
  - contents: [ID, 0x1a]
  - type: u1
  - id: wide
    type: u1
  - id: num
    type:
      switch-on: wide
      cases:
        0: u1
        1: u2
  - id: mode
    type: b1
    enum: mode
  - id: nibble
    type:
      switch-on: mode
      cases:
        'mode::on': b8
        'mode::off': b16
  - id: len_body
    type: u8
  - id: body
    size: len_body
  - id: has_tail
    type: u1
    valid:
      expr: has_tail <= 1
  - id: len_tail
    type: u1
    if: has_tail != 0
  - id: tail
    size: len_tail
    if: has_tail != 0
  - id: entries
    type: 'entry(_index != 0 ? entries[_index - 1].is_wide : false)'
    repeat: expr
    repeat-expr: 2
  - id: rest
    type: u1
    repeat: until
    repeat-until: _io.eof
instances:
  num_plus_one:
    value: num + 1
  scaled:
    value: wide * 2.
  signed:
    value: '(wide == 0 ? -1 : +1) * num'
  table:
    value: '[10, 20, 30,][wide]'
  whole_size:
    value: _root._io.size
  at_end:
    value: _io.eof
  left_at_end:
    value: _root._io.size - _io.pos
enums:
  mode:
    0: off
    1: on
types:
  entry:
    params:
      - id: after_wide
        type: bool
    seq:
      - id: tag
        type: u1
    instances:
      is_wide:
        value: tag == 5
      flagged:
        value: after_wide
