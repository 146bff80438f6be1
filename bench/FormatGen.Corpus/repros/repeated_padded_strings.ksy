meta:
  id: repeated_padded_strings
seq:
  - id: names
    type: str
    size: 4
    pad-right: 0
    terminator: 0
    encoding: ASCII
    repeat: expr
    repeat-expr: 2
