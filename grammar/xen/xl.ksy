meta:
  id: xl
  title: Xen xl save file
  license: CC0-1.0
  endian: le
  -fg-namespace: FormatGen.Xen.Xl
  imports:
    - libxl
doc: |
  What `xl save` writes: a 32-octet magic, four u32 in the saving host's byte
  order (told by the first, 0x01020304), the optional data (the domain's
  configuration, JSON when mandatory flag bit 0 is set), then the domain: a
  libxl stream when mandatory flag bit 1 is set, otherwise a legacy (pre-v2)
  libxc image. Source: Xen's tools/xl/xl.h (struct save_file_header) and
  tools/xl/xl_vmcontrol.c (what xl restore checks).
seq:
  - id: magic
    contents: ["Xen saved domain, xl format", 0x0a, 0x20, 0x00, 0x20, 0x0d]
    doc: '"Xen saved domain, xl format\n \0 \r".'
  - id: byte_order
    size: 4
    valid:
      any-of: ['[0x04, 0x03, 0x02, 0x01]', '[0x01, 0x02, 0x03, 0x04]']
    -fg-rule: xl-byte-order
    -fg-expect: 0x01020304 in either byte order
    doc: 0x01020304 in the byte order of the rest of the header.
  - id: header
    type: header
  - id: libxl
    type: libxl
    if: header.stream_v2
    -fg-handoff: true
    doc: The domain, as a libxl stream (with the libxc stream inside it).
  - id: legacy_image
    size-eos: true
    if: not header.stream_v2
    -fg-handoff: true
    doc: The domain, as a legacy libxc image (Xen 4.5 and earlier); convert-legacy translates it.
types:
  header:
    doc: The flags and the optional data, in the byte order byte_order shows.
    meta:
      endian:
        switch-on: _root.byte_order
        cases:
          '[0x04, 0x03, 0x02, 0x01]': le
          '[0x01, 0x02, 0x03, 0x04]': be
    seq:
      - id: mandatory_flags
        type: u4
        valid:
          expr: (_ & 0xfffffffc) == 0
        -fg-rule: xl-mandatory-flags
        -fg-expect: only bits 0 (JSON config) and 1 (v2 stream)
        -fg-found: 'flags {_:x}'
        doc: 'Bit 0: the configuration is JSON. Bit 1: a libxl (v2) stream follows. xl restore refuses any other bit.'
      - id: optional_flags
        type: u4
        doc: None defined; xl restore ignores them.
      - id: optional_data_len
        type: u4
      - id: optional_data
        size: optional_data_len
        type: optional_data
        doc: What xl restore does not understand here it skips.
    instances:
      config_is_json:
        value: (mandatory_flags & 1) != 0
      stream_v2:
        value: (mandatory_flags & 2) != 0
  optional_data:
    doc: The domain's configuration (size, then text); a later xl may add more after it.
    seq:
      - id: config_len
        type: u4
        if: _io.size >= 4
      - id: config
        size: config_len
        type: str
        encoding: UTF-8
        terminator: 0
        if: _io.size >= 4
        doc: The configuration text, NUL-terminated within its size.
