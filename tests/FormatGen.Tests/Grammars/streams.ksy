meta:
  id: streams
  endian: le
  -fg-namespace: Snapshots.Streams
  imports:
    - common/framed_root
doc: >
  Parse instances that read another value's stream (io: header._io, as
  dos_mz does), their parent's stream (io: _parent._io, as ttf and mach_o
  do), and another grammar's root read inside a sized field, whose _root._io
  is its own stream (as mach_o inside mach_o_fat).
seq:
  - id: header
    size: 4
    type: header
  - id: blocks
    size: 3
    type: block
    repeat: expr
    repeat-expr: 2
  - id: inner
    size: 2
    type: framed_root
instances:
  in_header:
    io: header._io
    pos: 2
    type: u2
types:
  header:
    seq:
      - id: magic
        type: u2
  block:
    seq:
      - id: len
        type: u1
      - id: body
        size: len
        type: body
  body:
    seq:
      - id: a
        type: u1
    instances:
      from_parent_stream:
        io: _parent._io
        pos: 0
        type: u1
