meta:
  id: crash_io_size_in_size
  endian: be
seq:
  - id: len32
    type: u4
  - id: body
    size: len
instances:
  len:
    value: 'len32 == 0 ? (_io.size - 4) : len32 - 4'
