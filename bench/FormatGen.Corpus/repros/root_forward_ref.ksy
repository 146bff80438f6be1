meta:
  id: root_forward_ref
seq:
  - id: dir
    type: dir
types:
  dir:
    seq:
      - id: files
        type: file(_index)
        repeat: expr
        repeat-expr: 2
  file:
    params:
      - id: idx
        type: u1
    seq:
      - id: ofs
        type: u1
    instances:
      next_ofs:
        value: 'idx < 1 ? _root.dir.files[idx + 1].ofs : 0'
