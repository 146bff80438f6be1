meta:
  id: framed_root
  endian: le
doc: A grammar whose root reads its own stream (_root._io) in a parse instance; imported by streams.ksy.
seq:
  - id: tag
    type: u1
instances:
  first_again:
    io: _root._io
    pos: 0
    type: u1
  size_of_root:
    value: _root._io.size
