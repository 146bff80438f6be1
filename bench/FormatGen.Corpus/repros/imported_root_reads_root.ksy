meta:
  id: imported_root_reads_root
  imports:
    - common/self_ordered
seq:
  - id: len
    type: u1
  - id: inner
    type: self_ordered
