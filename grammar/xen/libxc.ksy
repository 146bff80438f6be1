meta:
  id: libxc
  title: Xen libxc domain image (migration stream v2 and v3)
  license: CC0-1.0
  endian: be
  -fg-namespace: FormatGen.Xen.Libxc
doc: |
  A libxc domain image: the image header (always big-endian), then the domain
  header and the records, in the byte order that bit 0 of the image header's
  options selects. Source: docs/specs/libxc-migration-stream (Draft G) and the
  additions of later Xen releases (CHECKPOINT and CHECKPOINT_DIRTY_PFN_LIST
  from Xen 4.6 and 4.7, still version 2; version 3 from Xen 4.14).

  The rules here are those one record states alone, as the specification and
  Xen's restore (libxenguest) apply them. Rules that depend on earlier records
  (order, the guest width, the P2M range) are the runtime's LayoutRules.
seq:
  - id: image_header
    type: image_header
  - id: body
    type: image_body
types:
  image_header:
    doc: Identifies the image; 24 octets, big-endian whatever the stream's byte order.
    seq:
      - id: marker
        type: u8
        valid: '0xffffffffffffffff'
        -fg-rule: image-marker
        -fg-expect: all ones (0xffffffffffffffff)
        -fg-found: '{_:x}'
        doc: All ones; a legacy image has a zero bit in its first 8 octets.
      - id: id
        type: u4
        valid: 0x58454e46
        -fg-rule: image-id
        -fg-expect: 0x58454e46 ("XENF")
        -fg-found: '{_:x}'
        doc: '"XENF".'
      - id: version
        type: u4
        valid:
          any-of: [2, 3]
        -fg-rule: image-version
        -fg-found: '{_}'
        doc: 2 in the seed specification; Xen 4.14 and later write 3.
      - id: options
        type: u2
        valid:
          expr: (_ & 0xfffe) == 0
        -fg-rule: image-options-reserved
        -fg-expect: reserved bits 1-15 clear
        -fg-found: 'options {_:x}'
        doc: 'Bit 0: 0 little-endian, 1 big-endian. Bits 1-15 reserved.'
      - id: reserved1
        type: u2
        valid: 0
        -fg-rule: image-reserved
      - id: reserved2
        type: u4
        valid: 0
        -fg-rule: image-reserved
    -fg-checks:
      - rule: image-big-endian
        severity: warning
        expr: (options & 1) == 0
        expect: little-endian, the only byte order Xen's restore accepts
        found: big-endian
        doc: Big-endian streams are valid by the specification, but Xen's restore refuses them.
    instances:
      big_endian:
        value: (options & 1) == 1
        doc: True when the domain header and records are big-endian.

  image_body:
    doc: Domain header and records, in the byte order chosen by the image header.
    meta:
      endian:
        switch-on: _root.image_header.options & 1
        cases:
          0: le
          1: be
    seq:
      - id: domain_header
        type: domain_header(_root.image_header.version)
      - id: records
        type: record(domain_header.record_page_shift, _root.image_header.version)
        repeat: until
        repeat-until: _.type == record_type::end
        -fg-stream: true
        doc: Records up to and including END.
    types:
      domain_header:
        doc: General properties of the domain; 16 octets.
        params:
          - id: version
            type: u4
            doc: The stream version, from the image header.
        seq:
          - id: type
            type: u4
            enum: domain_type
            valid:
              in-enum: true
            -fg-rule: domain-type
            -fg-expect: 1 (x86 PV), 2 (x86 HVM), 3 (x86 PVH) or 4 (ARM)
            -fg-found: '{_.to_i}'
            doc: 1 x86 PV, 2 x86 HVM, 3 x86 PVH, 4 ARM; the rest reserved.
          - id: page_shift
            type: u2
            valid:
              expr: 'type == domain_type::arm ? (_ >= 12 and _ <= 30) : _ == 12'
            -fg-rule: domain-page-shift
            -fg-expect: 12 (4096-octet pages; 12 to 30 for ARM)
            -fg-found: '{_}'
            doc: Page size is 2^page_shift; x86 guests have 4096-octet pages, and Xen's restore accepts no other.
          - id: reserved
            type: u2
            valid: 0
            -fg-rule: domain-reserved
          - id: xen_major
            type: u4
            doc: 0 means converted from a legacy image.
          - id: xen_minor
            type: u4
            doc: For converted images, the converter's own version.
        instances:
          record_page_shift:
            value: 'type == domain_type::arm and page_shift >= 12 and page_shift <= 30 ? page_shift : 12'
            doc: >-
              The page size records are checked with: 4096 octets for x86, as Xen's restore
              does whatever the header says (a wrong page_shift is one error, not one per record).
        -fg-checks:
          - rule: domain-type-unrestorable
            severity: warning
            expr: version >= 3 or (type != domain_type::x86_pvh and type != domain_type::arm)
            expect: x86 PV or x86 HVM, the domain types a Xen restores
            found: 'domain type {type.to_i}'
            doc: x86 PVH (3) and ARM (4) are named by the seed specification, but no Xen restores them.
          - rule: domain-type-reserved
            expr: version < 3 or (type != domain_type::x86_pvh and type != domain_type::arm)
            expect: x86 PV or x86 HVM; version 3 reserves types 3 and 4
            found: 'domain type {type.to_i}'
            doc: x86 PVH (3) and ARM (4) are reserved in version 3 streams.

      record:
        doc: |
          One record: type, body length, body, zero padding to a multiple of
          8 octets. Bit 31 of the type marks an optional record.
        params:
          - id: page_shift
            type: u2
          - id: version
            type: u4
        seq:
          - id: type
            type: u4
            enum: record_type
          - id: body_length
            type: u4
          - id: body
            size: body_length
            -fg-limit: true
            doc: At most the reader's record limit (Xen's REC_LENGTH_MAX, 128 MiB; the padding does not count).
            type:
              switch-on: type
              cases:
                'record_type::end': end
                'record_type::page_data': page_data(page_shift)
                'record_type::x86_pv_info': x86_pv_info
                'record_type::x86_pv_p2m_frames': x86_pv_p2m_frames(page_shift)
                'record_type::x86_pv_vcpu_basic': x86_pv_vcpu_basic
                'record_type::x86_pv_vcpu_extended': x86_pv_vcpu_extended
                'record_type::x86_pv_vcpu_xsave': x86_pv_vcpu_xsave
                'record_type::shared_info': shared_info(page_shift)
                'record_type::tsc_info': tsc_info
                'record_type::hvm_context': hvm_context
                'record_type::hvm_params': hvm_params
                'record_type::toolstack': toolstack
                'record_type::x86_pv_vcpu_msrs': x86_pv_vcpu_msrs
                'record_type::verify': verify
                'record_type::checkpoint': checkpoint
                'record_type::checkpoint_dirty_pfn_list': checkpoint_dirty_pfn_list
                'record_type::static_data_end': static_data_end
                'record_type::x86_cpuid_policy': x86_cpuid_policy
                'record_type::x86_msr_policy': x86_msr_policy
          - id: padding
            type: u1
            repeat: expr
            repeat-expr: (8 - body_length % 8) % 8
            valid: 0
            -fg-rule: record-padding
            doc: Zero octets up to the next multiple of 8.
        -fg-checks:
          - rule: record-unknown-mandatory
            expr: 'type.to_i >= 0x80000000 or type.to_i <= (version >= 3 ? 0x12 : 0x0f)'
            expect: 'a record type from 0 to {version >= 3 ? 0x12 : 0x0f:x} in a version {version} stream, or an optional one (bit 31 set)'
            found: 'type {type.to_i:x}'
            doc: Unknown mandatory record type; a restore must fail.
          - rule: record-unknown-optional
            severity: info
            expect: a record type this reader knows
            found: 'optional type {type.to_i:x}, skipped'
            expr: type.to_i < 0x80000000
            doc: Unknown optional record; skipped.
        instances:
          optional:
            value: (type.to_i & 0x80000000) != 0
            doc: Bit 31 of the type; an unknown optional record may be skipped.

      end:
        doc: Marks the end of the image; the final record.
        -fg-checks:
          - rule: end-length
            expr: _io.size == 0
            expect: an empty body
            found: '{_io.size} octets'
            doc: END has an empty body.

      page_data:
        doc: Memory contents of count pages.
        params:
          - id: page_shift
            type: u2
        seq:
          - id: count
            type: u4
            valid:
              min: 1
            -fg-rule: page-data-count
            -fg-found: '{_}'
            doc: Number of pfn entries; at least 1.
          - id: reserved
            type: u4
            valid: 0
            -fg-rule: page-data-reserved
          - id: pfns
            type: pfn_entry
            repeat: expr
            repeat-expr: count
          - id: data
            size-eos: true
            doc: One page for each entry whose type carries data, in entry order.
        -fg-checks:
          - rule: page-data-min-length
            expr: _io.size >= 8
            expect: a body of at least 8 octets
            found: '{_io.size} octets'
            doc: PAGE_DATA needs at least its count and reserved fields.
          - rule: page-data-length
            expr: data.length == pfns.count(_.has_data) << page_shift
            expect: 'a body of {8 + 8 * count + (pfns.count(_.has_data) << page_shift)} octets for count {count} with {pfns.count(_.has_data)} pages of data'
            found: '{_io.size} octets'
            doc: body_length must be 8 + 8 * count + page_size * (entries that carry data).

      pfn_entry:
        doc: 'Bits 63-60 page type, bits 59-52 reserved, bits 51-0 pfn.'
        seq:
          - id: raw
            type: u8
            valid:
              expr: ((_ >> 52) & 0xff) == 0
            -fg-rule: pfn-reserved-bits
            -fg-expect: reserved bits 52-59 clear
            -fg-found: 'entry {_:x}'
        -fg-checks:
          - rule: pfn-type
            expr: type.to_i < 5 or type.to_i > 8
            expect: a page type 0-4 or 9-15
            found: 'type {type.to_i} in entry {raw:x}'
            doc: Page types 5-8 are not defined; a restore must fail.
        instances:
          type:
            value: raw >> 60
            enum: page_type
            doc: The XEN_DOMCTL_PFINFO type.
          pfn:
            value: raw & 0xfffffffffffff
            doc: The guest frame number.
          has_data:
            value: (raw >> 60) < 13
            doc: False for BROKEN, XALLOC and XTAB, which carry no page.

      x86_pv_info:
        doc: PV guest width and paging levels.
        seq:
          - id: guest_width
            type: u1
            valid:
              any-of: [4, 8]
            -fg-rule: pv-info-guest-width
            doc: Guest width in octets.
          - id: pt_levels
            type: u1
            valid:
              any-of: [3, 4]
            -fg-rule: pv-info-pt-levels
            doc: Page table levels.
          - id: reserved1
            type: u2
            valid: 0
            -fg-rule: pv-info-reserved
          - id: reserved2
            type: u4
            valid: 0
            -fg-rule: pv-info-reserved
        -fg-checks:
          - rule: pv-info-length
            expr: _io.size == 8
            expect: a body of 8 octets
            found: '{_io.size} octets'
            doc: X86_PV_INFO is 8 octets.
          - rule: pv-info-combination
            expr: >-
              (guest_width == 4 and pt_levels == 3) or (guest_width == 8 and pt_levels == 4)
              or (guest_width != 4 and guest_width != 8) or (pt_levels != 3 and pt_levels != 4)
            expect: width 4 with 3 page-table levels, or width 8 with 4
            found: 'width {guest_width} with {pt_levels} levels'
            doc: A 32-bit PV guest uses 3-level (PAE) paging, a 64-bit one 4 levels; Xen's restore refuses any other pair.

      x86_pv_p2m_frames:
        doc: Frames holding the guest's P2M table for pfns start..end.
        params:
          - id: page_shift
            type: u2
        seq:
          - id: p2m_start_pfn
            type: u4
          - id: p2m_end_pfn
            type: u4
          - id: p2m_pfns
            type: u8
            repeat: eos
        -fg-checks:
          - rule: p2m-frames-length
            expr: _io.size >= 8 and _io.size % 8 == 0
            expect: a body of at least 8 octets, a multiple of 8
            found: '{_io.size} octets'
            doc: X86_PV_P2M_FRAMES is at least 8 octets and a multiple of 8.
          - rule: p2m-frames-range
            expr: p2m_end_pfn >= p2m_start_pfn
            expect: p2m_end_pfn not below p2m_start_pfn
            found: 'pfns {p2m_start_pfn} to {p2m_end_pfn}'
            doc: p2m_end_pfn precedes p2m_start_pfn.
          - rule: p2m-frames-cover
            expr: >-
              p2m_end_pfn < p2m_start_pfn
              or p2m_pfns.length == (p2m_end_pfn >> (page_shift - 3)) - (p2m_start_pfn >> (page_shift - 3)) + 1
              or p2m_pfns.length == (p2m_end_pfn >> (page_shift - 2)) - (p2m_start_pfn >> (page_shift - 2)) + 1
            expect: >-
              for pfns {p2m_start_pfn} to {p2m_end_pfn}, a frame count of
              {(p2m_end_pfn >> (page_shift - 3)) - (p2m_start_pfn >> (page_shift - 3)) + 1} (a 64-bit guest)
              or {(p2m_end_pfn >> (page_shift - 2)) - (p2m_start_pfn >> (page_shift - 2)) + 1} (a 32-bit guest)
            found: '{p2m_pfns.length}'
            doc: >-
              The frames must cover pfns start..end for a 4- or 8-octet guest width (which of the
              two, X86_PV_INFO says: the stream's layout rules check that).

      vcpu_context:
        doc: 'Shared shape of the X86_PV_VCPU_* records: vcpu id and an opaque context.'
        seq:
          - id: vcpu_id
            type: u4
          - id: reserved
            type: u4
            valid: 0
            -fg-rule: vcpu-reserved
          - id: context
            size-eos: true
            doc: Opaque hypercall data.
        -fg-checks:
          - rule: vcpu-length
            expr: _io.size >= 8
            expect: a body of at least 8 octets
            found: '{_io.size} octets'
            doc: X86_PV_VCPU_* records are at least 8 octets.
          - rule: vcpu-empty-context
            severity: warning
            expr: context.length > 0
            expect: a context
            found: an empty one
            doc: Erratum of Xen 4.6-4.8 (records without content), which receivers tolerate.

      x86_pv_vcpu_basic:
        doc: XEN_DOMCTL_{get,set}vcpucontext.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
        -fg-checks:
          - rule: vcpu-basic-size
            expr: vcpu.context.length == 0 or vcpu.context.length == 5168 or vcpu.context.length == 2800
            expect: a context of 5168 octets (64-bit guest) or 2800 (32-bit guest)
            found: '{vcpu.context.length} octets'
            doc: The context is a vcpu_guest_context of the guest's width (which one, X86_PV_INFO says).
      x86_pv_vcpu_extended:
        doc: XEN_DOMCTL_{get,set}_ext_vcpucontext.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
        -fg-checks:
          - rule: vcpu-extended-size
            expr: vcpu.context.length <= 128
            expect: a context of at most 128 octets
            found: '{vcpu.context.length} octets'
            doc: The context is at most a xen_domctl_ext_vcpucontext (128 octets).
      x86_pv_vcpu_xsave:
        doc: XEN_DOMCTL_{get,set}vcpuextstate.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
        -fg-checks:
          - rule: vcpu-xsave-size
            expr: vcpu.context.length == 0 or vcpu.context.length >= 16
            expect: a context of at least 16 octets
            found: '{vcpu.context.length} octets'
            doc: The context starts with the xfeature mask and accumulated mask (16 octets).
      x86_pv_vcpu_msrs:
        doc: XEN_DOMCTL_{get,set}_vcpu_msrs.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
        -fg-checks:
          - rule: vcpu-msrs-size
            expr: vcpu.context.length % 16 == 0
            expect: a context of whole 16-octet MSR entries
            found: '{vcpu.context.length} octets'
            doc: The context is an array of xen_domctl_vcpu_msr (16 octets each).

      shared_info:
        doc: The shared info page.
        params:
          - id: page_shift
            type: u2
        seq:
          - id: data
            size-eos: true
        -fg-checks:
          - rule: shared-info-length
            expr: _io.size == 1 << page_shift
            expect: 'a body of one page ({1 << page_shift} octets)'
            found: '{_io.size} octets'
            doc: SHARED_INFO is exactly one page.

      tsc_info:
        doc: XEN_DOMCTL_{get,set}tscinfo (X86_TSC_INFO in version 3).
        seq:
          - id: mode
            type: u4
            valid:
              any-of: [0, 1, 2]
            -fg-rule: tsc-info-mode
            -fg-expect: 0 (default), 1 (always emulate) or 2 (never emulate)
            -fg-found: '{_}'
            doc: TSC_MODE_* constant; the hypervisor refuses any other.
          - id: khz
            type: u4
            doc: TSC frequency in kHz.
          - id: nsec
            type: u8
            doc: Elapsed time in nanoseconds.
          - id: incarnation
            type: u4
          - id: reserved
            type: u4
            valid: 0
            -fg-rule: tsc-info-reserved
        -fg-checks:
          - rule: tsc-info-length
            expr: _io.size == 24
            expect: a body of 24 octets
            found: '{_io.size} octets'
            doc: TSC_INFO is 24 octets.

      hvm_context:
        doc: XEN_DOMCTL_{get,set}hvmcontext blob.
        seq:
          - id: data
            size-eos: true
        -fg-checks:
          - rule: hvm-context-length
            expr: _io.size > 0
            expect: a non-empty body
            found: an empty one
            doc: HVM_CONTEXT must not be empty; Xen's restore refuses an empty one.

      hvm_params:
        doc: HVMOP_{get,set}_param values.
        seq:
          - id: count
            type: u4
          - id: reserved
            type: u4
            valid: 0
            -fg-rule: hvm-params-reserved
          - id: params
            type: hvm_param
            repeat: expr
            repeat-expr: count
        -fg-checks:
          - rule: hvm-params-length
            expr: _io.size == 8 + 16 * count
            expect: 'a body of {8 + 16 * count} octets for count {count}'
            found: '{_io.size} octets'
            doc: body_length must be 8 + 16 * count.
          - rule: hvm-params-empty
            severity: warning
            expr: count > 0
            expect: at least one parameter
            found: none
            doc: Erratum of Xen 4.6-4.8 (records without content), which receivers tolerate.

      hvm_param:
        seq:
          - id: index
            type: u8
            valid:
              max: 38
            -fg-rule: hvm-param-index
            -fg-expect: an HVM_PARAM_* index below 39 (HVM_NR_PARAMS)
            -fg-found: '{_}'
            doc: The hypervisor refuses indices it does not define.
          - id: value
            type: u8

      toolstack:
        doc: |
          Opaque toolstack blob. The seed calls it temporary; it was dropped
          before Xen 4.6 shipped, and no released Xen restores a stream that
          carries it (later specifications mark it deprecated).
        seq:
          - id: data
            size-eos: true
        -fg-checks:
          - rule: toolstack-refused
            expr: 'false'
            expect: no TOOLSTACK record (no released Xen restores one)
            found: one
            doc: TOOLSTACK was withdrawn during development; Xen's restore refuses it.

      verify:
        doc: All memory has been sent; more follows for debugging.
        -fg-checks:
          - rule: verify-length
            expr: _io.size == 0
            expect: an empty body
            found: '{_io.size} octets'
            doc: VERIFY has an empty body.

      checkpoint:
        doc: Ends one consistent checkpoint (Remus/COLO); Xen 4.6 and later.
        -fg-checks:
          - rule: checkpoint-length
            expr: _io.size == 0
            expect: an empty body
            found: '{_io.size} octets'
            doc: CHECKPOINT has an empty body.

      checkpoint_dirty_pfn_list:
        doc: Dirty pfns sent back from secondary to primary (COLO); Xen 4.7 and later.
        seq:
          - id: pfns
            type: u8
            repeat: eos
        -fg-checks:
          - rule: dirty-pfn-list-length
            expr: _io.size % 8 == 0
            expect: a body of whole 8-octet pfns
            found: '{_io.size} octets'
            doc: CHECKPOINT_DIRTY_PFN_LIST is a multiple of 8 octets.
          - rule: dirty-pfn-list-back-channel
            expr: 'false'
            expect: no CHECKPOINT_DIRTY_PFN_LIST in a stream to a restore
            found: one
            doc: CHECKPOINT_DIRTY_PFN_LIST belongs on the back channel (secondary to primary) only.

      static_data_end:
        doc: End of static data (policies); version 3.
        -fg-checks:
          - rule: static-data-end-length
            expr: _io.size == 0
            expect: an empty body
            found: '{_io.size} octets'
            doc: STATIC_DATA_END has an empty body.

      x86_cpuid_policy:
        doc: CPUID policy leaves; version 3.
        seq:
          - id: leaves
            type: cpuid_leaf
            repeat: eos
        -fg-checks:
          - rule: cpuid-policy-length
            expr: _io.size > 0 and _io.size % 24 == 0
            expect: a non-empty body of whole 24-octet leaves
            found: '{_io.size} octets'
            doc: X86_CPUID_POLICY is a non-zero multiple of 24 octets.

      cpuid_leaf:
        seq:
          - id: leaf
            type: u4
          - id: subleaf
            type: u4
          - id: a
            type: u4
          - id: b
            type: u4
          - id: c
            type: u4
          - id: d
            type: u4

      x86_msr_policy:
        doc: MSR policy entries; version 3.
        seq:
          - id: entries
            type: msr_entry
            repeat: eos
        -fg-checks:
          - rule: msr-policy-length
            expr: _io.size > 0 and _io.size % 16 == 0
            expect: a non-empty body of whole 16-octet entries
            found: '{_io.size} octets'
            doc: X86_MSR_POLICY is a non-zero multiple of 16 octets.

      msr_entry:
        seq:
          - id: idx
            type: u4
          - id: flags
            type: u4
            valid: 0
            -fg-rule: msr-flags-reserved
          - id: val
            type: u8

enums:
  domain_type:
    1: x86_pv
    2: x86_hvm
    3: x86_pvh
    4: arm
  record_type:
    0x00: end
    0x01: page_data
    0x02: x86_pv_info
    0x03: x86_pv_p2m_frames
    0x04: x86_pv_vcpu_basic
    0x05: x86_pv_vcpu_extended
    0x06: x86_pv_vcpu_xsave
    0x07: shared_info
    0x08: tsc_info
    0x09: hvm_context
    0x0a: hvm_params
    0x0b: toolstack
    0x0c: x86_pv_vcpu_msrs
    0x0d: verify
    0x0e: checkpoint
    0x0f: checkpoint_dirty_pfn_list
    0x10: static_data_end
    0x11: x86_cpuid_policy
    0x12: x86_msr_policy
  page_type:
    0x0: notab
    0x1: l1tab
    0x2: l2tab
    0x3: l3tab
    0x4: l4tab
    0x9: l1tab_pin
    0xa: l2tab_pin
    0xb: l3tab_pin
    0xc: l4tab_pin
    0xd: broken
    0xe: xalloc
    0xf: xtab
