meta:
  id: tlv
  endian: le
  -fg-namespace: Snapshots.Tlv
doc: A tag-length-value container, to pin down the generated code.
seq:
  - id: magic
    contents: [0x54, 0x4c, 0x56, 0x31]
  - id: count
    type: u2
  - id: flags
    type: u2
    valid:
      expr: (_ & 0xfff0) == 0
    -fg-rule: tlv-flags
    -fg-expect: bits 4-15 clear
    -fg-found: 'flags {_:x}'
  - id: items
    type: item(_index)
    repeat: expr
    repeat-exp@: count
  - id: crc
    type: u4be
    doc: Big-endian in a little-endian format.
types:
  item:
    params:
      - id: position
        type: u2
    -fg-checks:
      - rule: item-position
        expr: position < 100
        expect: at most 100 items
        found: 'item {position + 1}'
    seq:
      - id: tag
        type: u1
        enum: tag
      - id: length
        type: u1
      - id: value
        size: length
        type:
          switch-on: tg
          cases:
            'tag::number': number
            'tag::text': text
      - id: pad
        type: u1
        repeat: expr
        repeat-expr: (4 - (length + 2) % 4) % 4
        valid: 0
  number:
    seq:
      - id: value
        type: u4
        valid:
          min: 1
          max: 1000
    -fg-checks:
      - rule: number-length
        expr: _io.size == 4
        expect: length 4
        found: '{_io.size}'
  text:
    seq:
      - id: chars
        size-eos: true
enums:
  tag:
    1: number
    2: text
