meta:
  id: process
  endian: le
  -fg-namespace: Snapshots.Process
doc: Octets processed as Kaitai processes them (xor, rol, ror, zlib), as byte arrays and as user types.
seq:
  - id: key
    type: u1
  - id: masked
    size: 4
    process: xor(key)
  - id: keyed
    size: 5
    process: xor([0x12, 0x34])
  - id: rotated
    size: 2
    process: rol(3)
  - id: unrotated
    size: 2
    process: ror(key & 7)
  - id: packed_len
    type: u2
  - id: packed
    size: packed_len
    process: zlib
  - id: inner_len
    type: u1
  - id: inner
    size: inner_len
    type: point
    process: xor(0xff)
  - id: zinner_len
    type: u1
  - id: zinner
    size: zinner_len
    type: point
    process: zlib
types:
  point:
    seq:
      - id: x
        type: u2
      - id: y
        type: u2
instances:
  masked_first:
    value: masked[0]
