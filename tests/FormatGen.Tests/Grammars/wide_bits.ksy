meta:
  id: wide_bits
  endian: le
  -fg-namespace: Snapshots.WideBits
doc: |
  Bit-sized integers wider than 32 bits, in both bit orders. (Kaitai's
  JavaScript runtime reads at most 32 bits at a time; its other runtimes and
  ours read up to 64.)
seq:
  - id: forty
    type: b40be
  - id: odd
    type: b3be
  - id: full
    type: b64be
  - id: pad
    type: b5be
  - id: low_first
    type: b33le
  - id: all_le
    type: b64le
  - id: rest
    type: b7le
instances:
  sum:
    value: forty + odd
