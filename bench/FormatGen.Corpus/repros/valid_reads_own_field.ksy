meta:
  id: valid_reads_own_field
seq:
  - id: flag
    type: u1
  - id: method
    type: u1
    valid: 'flag == 1 ? 0 : method'
