meta:
  id: legacy
  title: Xen legacy libxc domain image (Xen 4.5 and earlier; read to translate, never written)
  license: CC0-1.0
  endian: le
  -fg-namespace: FormatGen.Xen.Legacy
doc: |
  The image Xen 4.5 and earlier saved: no header, no magic, native
  little-endian, and every "unsigned long" as wide as the saving toolstack's
  (4 octets for a 32-bit toolstack, 8 for a 64-bit one). Nothing in the image
  says which, nor whether the guest is PV or HVM: the reader is told
  (ulong_size, is_pv), having guessed from the first octets (see
  docs/legacy.md).

  Read here: p2m_size, the PV header (extended info and the p2m frame list),
  then the chunks up to the END chunk (streamed: one chunk at a time). After
  END comes the tail, whose layout depends on what the chunks said (which
  vcpus are online): a reader reads pv_tail_head, then one pv_vcpu per online
  vcpu, then shared_info (PV); or hvm_tail then device_model (HVM).

  Sources: Xen's tools/libxc/xc_domain_restore.c of Xen 4.5, and the notes of
  tools/python/xen/migration/legacy.py.
params:
  - id: ulong_size
    type: u1
    doc: Octets in the saving toolstack's unsigned long, 4 or 8.
  - id: is_pv
    type: bool
    doc: True for a PV guest, whose image has the PV header.
seq:
  - id: p2m_size
    type: ulong
    doc: Number of pfns in the guest's physical-to-machine map.
  - id: pv_header
    type: pv_header
    if: is_pv
  - id: chunks
    type: chunk
    repeat: until
    repeat-until: _.marker == chunk_type::end
    -fg-stream: true
    doc: Page batches and metadata, up to and including the END chunk.
types:
  pv_header:
    doc: The extended info and the p2m frame list, which only a PV image has.
    seq:
      - id: extended_info
        type: extended_info
      - id: p2m_frames
        type: ulong
        repeat: expr
        repeat-expr: '_root.p2m_size.value >= 1 and _root.p2m_size.value <= 0x100000000 ? (_root.p2m_size.value - 1) / (4096 / extended_info.guest_width) + 1 : 0'
        doc: The machine frames holding the guest's p2m table, 4096 / guest width entries to a frame.
    -fg-checks:
      - rule: legacy-p2m-size
        expr: _root.p2m_size.value >= 1 and _root.p2m_size.value <= 0x100000000
        expect: 1 to 0x100000000 pages for a PV guest (a version 3 stream names pfns 0 to p2m_size - 1 in 32 bits)
        found: '{_root.p2m_size.value:x}'

  extended_info:
    doc: 'PV only: the all-ones marker, then blocks ("vcpu", "extv", "xcnt") adding up to total_length octets.'
    seq:
      - id: marker
        type: u4
        valid: '0xffffffff'
        -fg-rule: legacy-extended-info-marker
        -fg-expect: 'the extended-info marker, all ones'
        -fg-found: '{_:x}'
      - id: marker_high
        type: u4
        if: _root.ulong_size == 8
        valid: '0xffffffff'
        -fg-rule: legacy-extended-info-marker
        -fg-expect: 'the extended-info marker, all ones'
        -fg-found: '{_:x}'
        doc: The marker's upper half, for a 64-bit toolstack.
      - id: total_length
        type: u4
        doc: Octets of blocks that follow.
      - id: blocks
        type: 'extended_block(_index == 0 ? 0 : blocks[_index - 1].end_offset, _index == 0 ? 0 : blocks[_index - 1].basic_size, _index == 0 ? false : blocks[_index - 1].has_extended, _index == 0 ? 0 : blocks[_index - 1].xsave_size)'
        repeat: until
        repeat-until: _.end_offset >= total_length
        doc: Blocks up to total_length; each carries what the blocks up to it said.
    -fg-checks:
      - rule: legacy-extended-info-length
        expr: 'blocks[blocks.size - 1].end_offset == total_length'
        expect: 'blocks adding up to {total_length} octets'
        found: 'blocks of {blocks[blocks.size - 1].end_offset} octets, overshooting by {blocks[blocks.size - 1].end_offset - total_length}'
        doc: The last block must end exactly where total_length says.
      - rule: legacy-extended-info-vcpu
        expr: 'blocks[blocks.size - 1].basic_size != 0'
        expect: a "vcpu" block, which gives the guest's width
        found: no "vcpu" block
    instances:
      guest_width:
        value: 'blocks[blocks.size - 1].basic_size == 0xaf0 ? 4 : 8'
        doc: Octets in the guest's unsigned long, from the last "vcpu" block's size.
      vcpu_context_size:
        value: 'blocks[blocks.size - 1].basic_size'
        doc: Octets of each vcpu context in the tail.
      has_extended_context:
        value: 'blocks[blocks.size - 1].has_extended'
        doc: Whether each vcpu in the tail has a 128-octet extended context.
      xsave_size:
        value: 'blocks[blocks.size - 1].xsave_size'
        doc: 'Octets of each vcpu''s xsave area in the tail, header included; 0: none.'

  extended_block:
    doc: One block of extended info; its parameters carry what the blocks before it said.
    params:
      - id: start_offset
        type: u8
      - id: prev_basic_size
        type: u4
      - id: prev_has_extended
        type: bool
      - id: prev_xsave_size
        type: u4
    seq:
      - id: id
        type: str
        size: 4
        encoding: ASCII
        valid:
          any-of: ['"vcpu"', '"extv"', '"xcnt"']
        -fg-rule: legacy-extended-block
        -fg-expect: '"vcpu", "extv" or "xcnt"'
        -fg-found: '{_}'
      - id: size
        type: u4
      - id: xsave_record_size
        type: u4
        if: id == "xcnt"
        doc: '"xcnt": octets of each vcpu''s xsave record in the tail (16 of header, then the area).'
      - id: data
        size: 'id == "xcnt" ? size - 4 : size'
        doc: 'The vcpu context for "vcpu" (unused: each vcpu''s comes in the tail); empty for "extv".'
    -fg-checks:
      - rule: legacy-vcpu-size
        expr: 'id != "vcpu" or size == 0x1430 or size == 0xaf0'
        expect: 0x1430 (64-bit guest, 4 page-table levels) or 0xaf0 (32-bit guest, 3 levels)
        found: '{size:x}'
        doc: The vcpu context's size is how the image says the guest's width.
    instances:
      end_offset:
        value: start_offset + 8 + size
      basic_size:
        value: 'id == "vcpu" ? size : prev_basic_size'
      has_extended:
        value: 'id == "extv" or prev_has_extended'
      xsave_size:
        value: 'id == "xcnt" ? xsave_record_size : prev_xsave_size'
      guest_width:
        value: 'size == 0xaf0 ? 4 : 8'
        doc: For a "vcpu" block.
      pt_levels:
        value: 'size == 0xaf0 ? 3 : 4'
        doc: For a "vcpu" block.

  chunk:
    doc: A page batch (positive marker), metadata (negative marker) or the END chunk (0).
    seq:
      - id: marker
        type: s4
        enum: chunk_type
        valid:
          expr: '_.to_i >= -20'
        -fg-rule: legacy-chunk-type
        -fg-expect: a page count (1 to 1024) or a chunk type from 0 to -20
        -fg-found: '{_.to_i}'
      - id: body
        if: marker.to_i < 0
        type:
          switch-on: marker
          cases:
            'chunk_type::vcpu_info': vcpu_info
            'chunk_type::hvm_ident_pt': hvm_param
            'chunk_type::hvm_vm86_tss': hvm_param
            'chunk_type::tsc_info': tsc_info
            'chunk_type::hvm_console_pfn': hvm_param
            'chunk_type::hvm_acpi_ioports_location': hvm_param
            'chunk_type::hvm_viridian': hvm_param
            'chunk_type::compressed_data': sized_data
            'chunk_type::hvm_generation_id_addr': hvm_param
            'chunk_type::hvm_paging_ring_pfn': hvm_param
            'chunk_type::hvm_monitor_ring_pfn': hvm_param
            'chunk_type::hvm_sharing_ring_pfn': hvm_param
            'chunk_type::toolstack': sized_data
            'chunk_type::hvm_ioreq_server_pfn': hvm_param
            'chunk_type::hvm_nr_ioreq_server_pages': hvm_param
        doc: The metadata; enable_verify_mode, last_checkpoint and enable_compression have none.
      - id: batch
        type: page_batch(marker.to_i)
        if: marker.to_i > 0
    -fg-checks:
      - rule: legacy-chunk-tmem
        expr: 'marker != chunk_type::tmem and marker != chunk_type::tmem_extra'
        expect: a chunk this grammar decodes
        found: 'a tmem chunk ({marker.to_i}), whose layout is the hypervisor''s own'
        doc: Transcendent memory chunks carry the hypervisor's tmem state, which no converter decodes.
    instances:
      hvm_param_index:
        value: >-
          marker == chunk_type::hvm_ident_pt ? 12 :
          marker == chunk_type::hvm_vm86_tss ? 15 :
          marker == chunk_type::hvm_console_pfn ? 17 :
          marker == chunk_type::hvm_acpi_ioports_location ? 19 :
          marker == chunk_type::hvm_viridian ? 9 :
          marker == chunk_type::hvm_generation_id_addr ? 34 :
          marker == chunk_type::hvm_paging_ring_pfn ? 27 :
          marker == chunk_type::hvm_monitor_ring_pfn ? 28 :
          marker == chunk_type::hvm_sharing_ring_pfn ? 29 :
          marker == chunk_type::hvm_ioreq_server_pfn ? 32 :
          marker == chunk_type::hvm_nr_ioreq_server_pages ? 33 : -1
        doc: The HVM_PARAM_* index an HVM parameter chunk sets; -1 for other chunks.

  page_batch:
    doc: A batch of pages; each pfn entry has the page type in bits 31-28 and the pfn in bits 27-0.
    params:
      - id: count
        type: s4
    seq:
      - id: pfns
        type: 'pfn_entry(_index == 0 ? 0 : pfns[_index - 1].pages_through)'
        repeat: expr
        repeat-expr: 'count <= 1024 ? count : 0'
      - id: pages
        size: 'count <= 1024 and count > 0 ? pfns[count - 1].pages_through * 4096 : 0'
        if: true
        -fg-handoff: true
        doc: One 4096-octet page for each entry whose type carries data, in entry order.
    -fg-checks:
      - rule: legacy-batch-size
        expr: count <= 1024
        expect: at most 1024 pages in a batch
        found: '{count} pages'
        doc: Xen's save sends at most MAX_BATCH_SIZE (1024) pages at a time.
    instances:
      page_count:
        value: 'count <= 1024 and count > 0 ? pfns[count - 1].pages_through : 0'
        doc: Pages of data in the batch.

  pfn_entry:
    params:
      - id: pages_before
        type: u4
        doc: Pages of data carried by the entries before this one.
    seq:
      - id: raw
        type: u4
        doc: The entry, or its lower half for a 64-bit toolstack.
      - id: high
        type: u4
        if: _root.ulong_size == 8
        doc: 'The upper half of a 64-bit toolstack''s entry: unused (Xen''s converter ignores it too).'
    instances:
      type:
        value: (raw >> 28) & 0xf
        doc: The XEN_DOMCTL_PFINFO type (0 normal, 1-4 page tables, 8 pinned, 0xd broken, 0xe xalloc, 0xf xtab).
      pfn:
        value: raw & 0xfffffff
      is_padding:
        value: raw == 0xf0000000 and (_root.ulong_size == 4 or high == 0)
        doc: An XTAB entry for pfn 0, which the save leaves for pfns it could not map; not a page.
      has_data:
        value: type < 0xd
      pages_through:
        value: 'pages_before + (has_data ? 1 : 0)'

  ulong:
    doc: The saving toolstack's unsigned long, 4 or 8 octets.
    seq:
      - id: low
        type: u4
      - id: high
        type: u4
        if: _root.ulong_size == 8
    instances:
      value:
        value: '_root.ulong_size == 8 ? high * 0x100000000 + low : low'
        doc: Arithmetic, not shifts, so that every Kaitai target computes it in 64 bits.

  vcpu_info:
    seq:
      - id: max_vcpu_id
        type: s4
        valid:
          max: 4095
        -fg-rule: legacy-vcpu-max-id
        -fg-found: '{_}'
        doc: Highest vcpu id; Xen restores at most 4096 vcpus.
      - id: online
        type: u8
        repeat: expr
        repeat-expr: 'max_vcpu_id < 0 or max_vcpu_id > 4095 ? 0 : max_vcpu_id / 64 + 1'
        doc: Bitmap of online vcpus, 64 to a word.

  hvm_param:
    seq:
      - id: padding
        type: u4
      - id: value
        type: u8

  tsc_info:
    seq:
      - id: mode
        type: u4
      - id: nsec
        type: u8
      - id: khz
        type: u4
      - id: incarnation
        type: u4

  sized_data:
    seq:
      - id: size
        type: u4
      - id: data
        size: size

  libxl_toolstack:
    doc: |
      Data of a toolstack chunk written by libxl (version 1): qemu's physmap.
      A 64-bit libxl leaked the 4 padding octets of its struct after each
      name, so name_padding is 4 for a 64-bit toolstack, 0 for a 32-bit one.
    params:
      - id: name_padding
        type: u1
    seq:
      - id: version
        type: u4
        valid: 1
        -fg-rule: legacy-toolstack-version
        -fg-found: '{_}'
      - id: count
        type: u4
      - id: entries
        type: physmap_entry(name_padding)
        repeat: expr
        repeat-expr: count

  physmap_entry:
    params:
      - id: name_padding
        type: u1
    seq:
      - id: phys_offset
        type: u8
      - id: start_addr
        type: u8
      - id: size
        type: u8
      - id: name_length
        type: u4
        valid:
          min: 1
        -fg-rule: legacy-physmap-name
        -fg-expect: a name of at least its NUL
        -fg-found: '{_} octets'
        doc: Octets of the name, its NUL included.
      - id: name
        size: name_length - 1
      - id: nul
        type: u1
        valid: 0
        -fg-rule: legacy-physmap-name-nul
        -fg-expect: the name's terminating NUL
        -fg-found: '{_:x}'
      - id: padding
        size: name_padding

  pv_tail_head:
    doc: 'PV tail: the "unmapped" pfns, which carry nothing (a converter drops them).'
    params:
      - id: ulong_size
        type: u1
    seq:
      - id: count
        type: u4
      - id: pfns
        size: count * ulong_size
        if: true
        -fg-handoff: true

  pv_vcpu:
    doc: 'PV tail: one online vcpu''s state, in the sizes the extended info gave.'
    params:
      - id: context_size
        type: u4
      - id: has_extended
        type: bool
      - id: xsave_size
        type: u4
    seq:
      - id: context
        size: context_size
        doc: The vcpu_guest_context of the guest's width.
      - id: extended
        size: 128
        if: has_extended
      - id: xsave_mask
        type: u8
        if: xsave_size != 0
      - id: xsave_length
        type: u8
        if: xsave_size != 0
        valid:
          expr: _ == xsave_size - 16
        -fg-rule: legacy-xsave-size
        -fg-expect: '{xsave_size - 16} octets, as the "xcnt" block says'
        -fg-found: '{_} octets'
      - id: xsave
        size: xsave_length
        if: xsave_size != 0

  shared_info:
    doc: 'PV tail: the shared info page.'
    seq:
      - id: page
        size: 4096

  hvm_tail:
    doc: 'HVM tail: the magic pfns and the hypervisor''s HVM context.'
    seq:
      - id: ioreq_pfn
        type: u8
      - id: bufioreq_pfn
        type: u8
      - id: store_pfn
        type: u8
      - id: context_length
        type: u4
      - id: context
        size: context_length

  device_model:
    doc: 'HVM tail: the device model''s (qemu''s) saved state.'
    seq:
      - id: signature
        type: str
        size: 21
        encoding: ASCII
        valid:
          any-of: ['"DeviceModelRecord0002"', '"RemusDeviceModelState"', '"QemuDeviceModelRecord"']
        -fg-rule: legacy-device-model-signature
        -fg-expect: '"DeviceModelRecord0002", "RemusDeviceModelState" or "QemuDeviceModelRecord"'
        -fg-found: '{_}'
      - id: length
        type: u4
        if: signature != "QemuDeviceModelRecord"
      - id: data
        size: length
        if: signature != "QemuDeviceModelRecord"
        -fg-handoff: true
        doc: Streamed, left to the reader (a converter copies it without holding it).
      - id: data_to_end
        size-eos: true
        if: signature == "QemuDeviceModelRecord"
        -fg-handoff: true
        doc: The oldest qemu-dm wrote its state up to the end of the file.

enums:
  chunk_type:
    0: end
    -1: enable_verify_mode
    -2: vcpu_info
    -3: hvm_ident_pt
    -4: hvm_vm86_tss
    -5: tmem
    -6: tmem_extra
    -7: tsc_info
    -8: hvm_console_pfn
    -9: last_checkpoint
    -10: hvm_acpi_ioports_location
    -11: hvm_viridian
    -12: compressed_data
    -13: enable_compression
    -14: hvm_generation_id_addr
    -15: hvm_paging_ring_pfn
    -16: hvm_monitor_ring_pfn
    -17: hvm_sharing_ring_pfn
    -18: toolstack
    -19: hvm_ioreq_server_pfn
    -20: hvm_nr_ioreq_server_pages
