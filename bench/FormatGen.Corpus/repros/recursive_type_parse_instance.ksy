meta:
  id: recursive_type_parse_instance
seq:
  - id: ofs
    type: u1
instances:
  tree:
    pos: ofs
    type: node
types:
  node:
    seq:
      - id: has_children
        type: u1
      - id: left
        type: node
        if: has_children != 0
      - id: right
        type: node
        if: has_children != 0
