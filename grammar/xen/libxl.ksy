meta:
  id: libxl
  title: Xen libxl migration stream (v2)
  license: CC0-1.0
  endian: be
  -fg-namespace: FormatGen.Xen.Libxl
  imports:
    - libxc
doc: |
  A libxl migration stream, as `xl save` writes it after its own header and
  as libxl sends it over the wire: a 16-octet header (always big-endian), then
  records framed like libxc's (type, length, body, zero padding to a multiple
  of 8), in the byte order that bit 0 of the header's options selects. A
  LIBXC_CONTEXT record has no body: the complete libxc stream follows it
  inline, up to and including its END record. Source: Xen's
  docs/specs/libxl-migration-stream and tools/libs/light/libxl_sr_stream_format.h.

  This grammar reads a plain stream (one LIBXC_CONTEXT, its libxc stream to
  END, the emulator records, END). A checkpointed stream (Remus, COLO) takes
  turns between the two layers at each libxc CHECKPOINT and libxl
  CHECKPOINT_END; that is the runtime's to follow, with these same record
  layouts.
seq:
  - id: header
    type: header
  - id: body
    type: stream_body
types:
  header:
    doc: Identifies the stream; 16 octets, big-endian whatever the records' byte order.
    seq:
      - id: ident
        type: u8
        valid: '0x4c6962786c466d74'
        -fg-rule: libxl-ident
        -fg-expect: 0x4c6962786c466d74 ("LibxlFmt")
        -fg-found: '{_:x}'
        doc: '"LibxlFmt".'
      - id: version
        type: u4
        valid: 2
        -fg-rule: libxl-version
        -fg-found: '{_}'
        doc: 2, the only libxl stream version.
      - id: options
        type: u4
        valid:
          expr: (_ & 0xfffffffc) == 0
        -fg-rule: libxl-options-reserved
        -fg-expect: reserved bits 2-31 clear
        -fg-found: 'options {_:x}'
        doc: 'Bit 0: 0 little-endian, 1 big-endian records. Bit 1: written by the legacy conversion tool. Bits 2-31 reserved.'
    -fg-checks:
      - rule: libxl-big-endian
        severity: warning
        expr: (options & 1) == 0
        expect: little-endian, the only byte order Xen's restore accepts
        found: big-endian
        doc: Big-endian streams are valid by the specification, but Xen's restore refuses them.
    instances:
      big_endian:
        value: (options & 1) == 1
        doc: True when the records are big-endian.
      legacy:
        value: (options & 2) != 0
        doc: True when the stream was converted from a legacy (pre-v2) image.

  stream_body:
    doc: The records, in the byte order the header chose.
    meta:
      endian:
        switch-on: _root.header.options & 1
        cases:
          0: le
          1: be
    seq:
      - id: records
        type: record
        repeat: until
        repeat-until: _.type == record_type::end
        -fg-stream: true
        doc: Records up to and including END; LIBXC_CONTEXT carries the libxc stream after it.
    types:
      record:
        doc: |
          One record: type, body length, body, zero padding to a multiple of
          8 octets; after LIBXC_CONTEXT, the libxc stream.
        seq:
          - id: type
            type: u4
            enum: record_type
          - id: body_length
            type: u4
          - id: body
            size: body_length
            -fg-limit: true
            doc: At most the reader's record limit (the padding does not count).
            type:
              switch-on: type
              cases:
                'record_type::end': empty_body
                'record_type::libxc_context': empty_body
                'record_type::emulator_xenstore_data': emulator_xenstore_data
                'record_type::emulator_context': emulator_context
                'record_type::checkpoint_end': empty_body
                'record_type::checkpoint_state': checkpoint_state
          - id: padding
            type: u1
            repeat: expr
            repeat-expr: (8 - body_length % 8) % 8
            valid: 0
            -fg-rule: libxl-record-padding
            doc: Zero octets up to the next multiple of 8.
          - id: libxc
            type: libxc
            if: type == record_type::libxc_context
            -fg-handoff: true
            doc: |
              The complete libxc stream, inline, up to and including its END
              record. Streamed, the record ends before it and the libxc stream
              is read in turn (a checkpointed stream interleaves the two).
        -fg-checks:
          - rule: libxl-record-type
            expr: type.to_i <= 5
            expect: a libxl record type from 0 to 5
            found: 'type {type.to_i:x}'
            doc: libxl knows no optional records; an unknown type fails a restore.

      empty_body:
        doc: END, LIBXC_CONTEXT and CHECKPOINT_END have no body.
        -fg-checks:
          - rule: libxl-record-empty
            expr: _io.size == 0
            expect: an empty body
            found: '{_io.size} octets'

      emulator_header:
        doc: Which emulator a record is for.
        seq:
          - id: emulator_id
            type: u4
            enum: emulator_id
            valid:
              in-enum: true
            -fg-rule: libxl-emulator-id
            -fg-expect: 0 (unknown), 1 (qemu traditional) or 2 (qemu upstream)
            -fg-found: '{_.to_i}'
          - id: index
            type: u4
            doc: Which of the domain's emulators of that kind (0 for the device model).

      emulator_xenstore_data:
        doc: |
          The emulator's xenstore keys and values, relative to its xenstore
          path: NUL-terminated strings, a key then its value, to the end of the body.
        seq:
          - id: emulator
            type: emulator_header
          - id: strings
            type: strz
            encoding: ASCII
            repeat: eos
            doc: Key, value, key, value, ...; each ends with a NUL, the last one too.
        -fg-checks:
          - rule: libxl-xenstore-pairs
            expr: strings.size % 2 == 0
            expect: an even number of strings (keys with their values)
            found: '{strings.size} strings'

      emulator_context:
        doc: The emulator's saved state, opaque to libxl.
        seq:
          - id: emulator
            type: emulator_header
          - id: state
            size-eos: true

      checkpoint_state:
        doc: A step of the COLO checkpoint protocol.
        seq:
          - id: control_id
            type: u4
            enum: checkpoint_control
            valid:
              in-enum: true
            -fg-rule: libxl-checkpoint-control
            -fg-expect: 0 (new), 1 (secondary suspended), 2 (secondary ready) or 3 (secondary resumed)
            -fg-found: '{_.to_i}'

enums:
  record_type:
    0: end
    1: libxc_context
    2: emulator_xenstore_data
    3: emulator_context
    4: checkpoint_end
    5: checkpoint_state
  emulator_id:
    0: unknown
    1: qemu_traditional
    2: qemu_upstream
  checkpoint_control:
    0: new_checkpoint
    1: secondary_suspended
    2: secondary_ready
    3: secondary_resumed
