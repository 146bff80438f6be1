meta:
  id: root_io_size
seq:
  - id: child
    type: child
    size: 2
types:
  child:
    seq:
      - id: a
        type: u1
    instances:
      total:
        value: _root._io.size - a
