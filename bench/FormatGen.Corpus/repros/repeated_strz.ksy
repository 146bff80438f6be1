meta:
  id: repeated_strz
  encoding: UTF-8
seq:
  - id: argc
    type: u1
  - id: argv
    type: str
    terminator: 0x0a
    repeat: expr
    repeat-expr: argc
