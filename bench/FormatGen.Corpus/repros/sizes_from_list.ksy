meta:
  id: sizes_from_list
seq:
  - id: num_chunks
    type: u1
  - id: len_chunks
    type: u1
    repeat: expr
    repeat-expr: num_chunks
  - id: chunks
    size: len_chunks[_index]
    repeat: expr
    repeat-expr: num_chunks
