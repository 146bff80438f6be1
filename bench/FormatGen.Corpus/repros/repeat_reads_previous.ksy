meta:
  id: repeat_reads_previous
seq:
  - id: entries
    type: 'entry(_index != 0 ? entries[_index - 1].is_wide : false)'
    repeat: expr
    repeat-expr: 3
types:
  entry:
    params:
      - id: after_wide
        type: bool
    seq:
      - id: tag
        type: u1
    instances:
      is_wide:
        value: tag == 5
