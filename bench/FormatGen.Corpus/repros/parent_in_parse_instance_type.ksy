meta:
  id: parent_in_parse_instance_type
seq:
  - id: ofs
    type: u1
  - id: len_data
    type: u1
instances:
  body:
    pos: ofs
    type: chunk
types:
  chunk:
    seq:
      - id: data
        size: _parent.len_data
