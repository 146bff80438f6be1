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
  version 3 additions of later Xen releases.
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
        doc: All ones; a legacy image has a zero bit in its first 8 octets.
      - id: id
        type: u4
        valid: 0x58454e46
        -fg-rule: image-id
        doc: '"XENF".'
      - id: version
        type: u4
        valid:
          any-of: [2, 3]
        -fg-rule: image-version
        doc: 2 in the seed specification; Xen 4.14 and later write 3.
      - id: options
        type: u2
        valid:
          expr: (_ & 0xfffe) == 0
        -fg-rule: image-options-reserved
        doc: 'Bit 0: 0 little-endian, 1 big-endian. Bits 1-15 reserved.'
      - id: reserved1
        type: u2
        valid: 0
        -fg-rule: image-reserved
      - id: reserved2
        type: u4
        valid: 0
        -fg-rule: image-reserved
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
        type: domain_header
      - id: records
        type: record(domain_header.page_shift, _root.image_header.version)
        repeat: until
        repeat-until: _.type == record_type::end
        -fg-stream: true
        doc: Records up to and including END.
    types:
      domain_header:
        doc: General properties of the domain; 16 octets.
        seq:
          - id: type
            type: u4
            enum: domain_type
            valid:
              in-enum: true
            -fg-rule: domain-type
            doc: 1 x86 PV, 2 x86 HVM, 3 x86 PVH, 4 ARM; the rest reserved.
          - id: page_shift
            type: u2
            valid:
              min: 12
              max: 30
            -fg-rule: domain-page-shift
            doc: Page size is 2^page_shift; Xen writes 12.
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
                'record_type::toolstack': toolstack(version)
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
            expr: 'type.to_i >= 0x80000000 or type.to_i <= (version >= 3 ? 0x12 : 0x0d)'
            doc: Unknown mandatory record type; a restore must fail.
          - rule: record-unknown-optional
            severity: info
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
            doc: PAGE_DATA needs at least its count and reserved fields.
          - rule: page-data-length
            expr: data.length == pfns.count(_.has_data) << page_shift
            doc: body_length must be 8 + 8 * count + page_size * (entries that carry data).

      pfn_entry:
        doc: 'Bits 63-60 page type, bits 59-52 reserved, bits 51-0 pfn.'
        seq:
          - id: raw
            type: u8
            valid:
              expr: ((_ >> 52) & 0xff) == 0
            -fg-rule: pfn-reserved-bits
        -fg-checks:
          - rule: pfn-type
            expr: type.to_i < 5 or type.to_i > 8
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
            doc: X86_PV_INFO is 8 octets.

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
            doc: X86_PV_P2M_FRAMES is at least 8 octets and a multiple of 8.
          - rule: p2m-frames-range
            expr: p2m_end_pfn >= p2m_start_pfn
            doc: p2m_end_pfn precedes p2m_start_pfn.
          - rule: p2m-frames-cover
            expr: >-
              p2m_end_pfn < p2m_start_pfn
              or p2m_pfns.length == (p2m_end_pfn >> (page_shift - 3)) - (p2m_start_pfn >> (page_shift - 3)) + 1
              or p2m_pfns.length == (p2m_end_pfn >> (page_shift - 2)) - (p2m_start_pfn >> (page_shift - 2)) + 1
            doc: The frames must cover pfns start..end for a 4- or 8-octet guest width.

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
            doc: X86_PV_VCPU_* records are at least 8 octets.
          - rule: vcpu-empty-context
            severity: warning
            expr: context.length > 0
            doc: Erratum of Xen 4.6-4.8, tolerated.

      x86_pv_vcpu_basic:
        doc: XEN_DOMCTL_{get,set}vcpucontext.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
      x86_pv_vcpu_extended:
        doc: XEN_DOMCTL_{get,set}_ext_vcpucontext.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
      x86_pv_vcpu_xsave:
        doc: XEN_DOMCTL_{get,set}vcpuextstate.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true
      x86_pv_vcpu_msrs:
        doc: XEN_DOMCTL_{get,set}_vcpu_msrs.
        seq:
          - id: vcpu
            type: vcpu_context
            size-eos: true

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
            doc: SHARED_INFO is exactly one page.

      tsc_info:
        doc: XEN_DOMCTL_{get,set}tscinfo (X86_TSC_INFO in version 3).
        seq:
          - id: mode
            type: u4
            doc: TSC_MODE_* constant.
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
            doc: TSC_INFO is 24 octets.

      hvm_context:
        doc: XEN_DOMCTL_{get,set}hvmcontext blob.
        seq:
          - id: data
            size-eos: true
        -fg-checks:
          - rule: hvm-context-length
            expr: _io.size > 0
            doc: HVM_CONTEXT must not be empty.

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
            doc: body_length must be 8 + 16 * count.
          - rule: hvm-params-empty
            severity: warning
            expr: count > 0
            doc: Erratum of Xen 4.6-4.8, tolerated.

      hvm_param:
        seq:
          - id: index
            type: u8
          - id: value
            type: u8

      toolstack:
        doc: Opaque toolstack blob; temporary in the seed, deprecated later.
        params:
          - id: version
            type: u4
        seq:
          - id: data
            size-eos: true
        -fg-checks:
          - rule: toolstack-deprecated
            expr: version >= 3
            severity: warning
            doc: TOOLSTACK is deprecated; later Xen rejects it.
          - rule: toolstack-v3
            expr: version < 3
            doc: TOOLSTACK is not allowed in a version 3 stream.

      verify:
        doc: All memory has been sent; more follows for debugging.
        -fg-checks:
          - rule: verify-length
            expr: _io.size == 0
            doc: VERIFY has an empty body.

      checkpoint:
        doc: Ends one consistent checkpoint (Remus/COLO); version 3.
        -fg-checks:
          - rule: checkpoint-length
            expr: _io.size == 0
            doc: CHECKPOINT has an empty body.

      checkpoint_dirty_pfn_list:
        doc: Dirty pfns sent back from secondary to primary; version 3.
        seq:
          - id: pfns
            type: u8
            repeat: eos
        -fg-checks:
          - rule: dirty-pfn-list-length
            expr: _io.size % 8 == 0
            doc: CHECKPOINT_DIRTY_PFN_LIST is a multiple of 8 octets.
          - rule: dirty-pfn-list-back-channel
            expr: 'false'
            doc: CHECKPOINT_DIRTY_PFN_LIST belongs on the back channel only.

      static_data_end:
        doc: End of static data (policies); version 3.
        -fg-checks:
          - rule: static-data-end-length
            expr: _io.size == 0
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
