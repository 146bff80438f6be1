meta:
  id: enum_names_clash
seq:
  - id: tag
    type: u1
    enum: format
enums:
  format:
    0x31: gsm610
    0x32: gsm_610
