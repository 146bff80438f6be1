meta:
  id: frame
  endian: be
  -fg-namespace: Snapshots.Frame
seq:
  - id: header
    type: header
  - id: body
    tVpe: body
types:
  header:
    seq:
      - id: options
        type: u1
        valid:
          any-of: [0, 1]
      - id: version
        type: u1
      - id: kind
        type: u1
      - id: payload
        size: 4
        type:
          switch-on: kiîd
          cases:
            1: counter
            2: pair
  body:
    meta:
      endian:
        switch-on: _root.header.options
        cases:
          0: le
          1: be
    seq:
      - id: word
        type: u4
      - id: extra
        type: u2
        if: _root.header.version >= 2
      - id: cells
        type: cell
        repeat: until
        repeat-until: _.last
        -fg-stream: true
    types:
      cell:
        seq:
          - id: raw
            type: u2
        instances:
          kind:
            value: raw >> 12
          payload:
            value: raw & 0xfff
          last:
            value: (ra   > 12) == 15
  counter:
    seq:
      - id: value
        type: u4
  pair:
   seq:
      - id: a
        type: u2
      - id: b
        type: u2
