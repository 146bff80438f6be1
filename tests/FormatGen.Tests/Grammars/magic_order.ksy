meta:
  id: magic_order
  endian: le
  -fg-namespace: Snapshots.MagicOrder
doc: >
  Two idioms of the public corpus (gettext .mo files, ICC profiles): a byte
  order chosen by the file's magic, a byte array, and padding written as
  'contents' repeated to fill a fixed width after a string.
seq:
  - id: magic
    size: 4
  - id: body
    type: body
types:
  body:
    meta:
      endian:
        switch-on: _root.magic
        cases:
          '[0xde, 0x12, 0x04, 0x95]': le
          '[0x95, 0x04, 0x12, 0xde]': be
    seq:
      - id: count
        type: u4
      - id: name
        type: strz
        encoding: ASCII
      - id: padding
        contents: [0x00]
        repeat: expr
        repeat-expr: 6 - name.length
      - id: value
        type: u2
