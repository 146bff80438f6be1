meta:
  id: contents_plain_string
seq:
  - id: magic
    contents: [NES, 0x1a]
