meta:
  id: fuzz_target
  endian: be
  -fg-namespace: FormatGen.Fuzz.Grammars
  imports:
    - fuzz_common
doc: |
  What the fuzzer reads generated code with: strings (sized, terminated),
  bit fields, a parse instance at a position the input names, octets
  processed (xor, zlib), a type from an imported grammar, a repeat whose
  count and a size the input names, a type that contains itself as deep as
  the input says.
seq:
  - id: magic
    contents: "FZ"
  - id: version
    type: b3
  - id: flags
    type: b5
  - id: title
    type: fuzz_common::name
  - id: label
    type: strz
    encoding: ASCII
  - id: count
    type: u2
  - id: items
    type: item
    repeat: expr
    repeat-expr: count
  - id: key
    type: u1
  - id: masked_len
    type: u2
  - id: masked
    size: masked_len
    process: xor(key)
  - id: packed_len
    type: u4
  - id: packed
    size: packed_len
    process: zlib
  - id: table_pos
    type: u4
  - id: tree
    type: node
instances:
  table:
    pos: table_pos
    type: entry
    repeat: expr
    repeat-expr: 2
types:
  node:
    doc: A level, and another below it while the tag is not 0.
    seq:
      - id: tag
        type: u1
      - id: child
        type: node
        if: tag != 0
  item:
    seq:
      - id: kind
        type: b4
      - id: wide
        type: b1
      - id: reserved
        type: b3
      - id: value
        type:
          switch-on: wide
          cases:
            true: u4
            false: u1
      - id: note
        type: fuzz_common::name
        if: kind == 7
  entry:
    seq:
      - id: tag
        type: u2
      - id: body_len
        type: u2
      - id: body
        size: body_len
        type: fuzz_common::name
