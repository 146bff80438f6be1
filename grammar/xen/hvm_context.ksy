meta:
  id: hvm_context
  title: Xen HVM context (the hypervisor's save records of an HVM guest)
  license: CC0-1.0
  endian: le
  -fg-namespace: FormatGen.Xen.Hvm
doc: |
  The state the hypervisor keeps for an x86 HVM guest, as it hands it out for
  a save (XEN_DOMCTL_gethvmcontext) and takes it back on restore: the body of
  a libxc HVM_CONTEXT record (and the HVM context of a legacy image's tail).
  Always little-endian (it is the hypervisor's own x86 data, passed through
  the stream untouched, whatever byte order the stream's records use).

  A sequence of save records, each a descriptor (typecode, instance, length)
  followed by length octets of body, the first a HEADER and the last the END
  descriptor (typecode 0). Per-vCPU records carry the vCPU's number as their
  instance; the two PICs are instances 0 (master) and 1 (slave). Xen writes
  the records in typecode order: HEADER, then every vCPU's CPU, then PIC,
  IOAPIC, each vCPU's LAPIC and LAPIC_REGS, and so on up to CPU_MSR; END last.
  Source: Xen's public headers xen/include/public/hvm/save.h (descriptor, END)
  and xen/include/public/arch-x86/hvm/save.h (the bodies), and what
  xen/arch/x86/hvm/save.c and the devices' load functions accept.

  Each body is read within its descriptor's length, so a body of another
  Xen's size never derails what follows. Several bodies grew over the years;
  the hypervisor takes those (CPU, LAPIC, RTC, VIRIDIAN_*, VMCE_VCPU) at any
  length up to the current one and zero-extends them, and the fields an older
  body lacks are absent here. A body shorter than the oldest layout (which no
  Xen wrote) or longer than the newest breaks its length rule; the octets
  after the fields are kept (Slack), and a body too short for its fields is
  kept whole, as raw octets. Typecodes this grammar does not know keep their
  body as raw octets too.

  The rules are those the hypervisor's restore applies to one record alone:
  lengths, the header's magic and version, padding it refuses when not zero.
  Those that depend on the domain (a vCPU instance beyond the domain's vCPUs,
  control registers against the CPU policy, device state ranges) are not here.
seq:
  - id: header_record
    type: save_record(true)
    doc: The first record, which must be the HEADER (the hypervisor reads it before the others).
  - id: records
    type: save_record(false)
    repeat: until
    repeat-until: _.typecode == save_type::end
    -fg-stream: true
    doc: The records after the HEADER, END last.
types:
  save_record:
    doc: 'One record: an 8-octet descriptor, then its body.'
    params:
      - id: first
        type: bool
        doc: True for the first record of the blob.
    seq:
      - id: typecode
        type: u2
        enum: save_type
      - id: instance
        type: u2
        doc: The vCPU of a per-vCPU record; the PIC (0 master, 1 slave); otherwise 0.
      - id: length
        type: u4
        doc: Octets of body, not counting the descriptor.
      - id: body
        size: length
        type:
          switch-on: typecode
          cases:
            'save_type::end': end
            'save_type::header': header
            'save_type::cpu': cpu
            'save_type::pic': pic
            'save_type::ioapic': ioapic
            'save_type::lapic': lapic
            'save_type::lapic_regs': lapic_regs
            'save_type::pci_irq': pci_irq
            'save_type::isa_irq': isa_irq
            'save_type::pci_link': pci_link
            'save_type::pit': pit
            'save_type::rtc': rtc
            'save_type::hpet': hpet
            'save_type::pmtimer': pmtimer
            'save_type::mtrr': mtrr
            'save_type::viridian_domain': viridian_domain
            'save_type::cpu_xsave': cpu_xsave
            'save_type::viridian_vcpu': viridian_vcpu
            'save_type::vmce_vcpu': vmce_vcpu
            'save_type::tsc_adjust': tsc_adjust
            'save_type::cpu_msr': cpu_msr
    -fg-checks:
      - rule: hvm-header-position
        expr: 'first ? typecode == save_type::header : typecode != save_type::header'
        expect: '{first ? "the HEADER record first" : "no HEADER after the first record"}'
        found: '{first ? "typecode " : "a HEADER, typecode "}{typecode.to_i}'
        doc: >-
          The hypervisor reads the HEADER before anything else, and has no handler for a
          HEADER after it (a second one is an unknown typecode to it).
      - rule: hvm-typecode-unknown
        expr: typecode.to_i <= 20
        expect: a typecode from 0 to 20
        found: 'typecode {typecode.to_i}'
        doc: >-
          The hypervisor refuses a typecode it has no handler for (Xen reserves 22 to 34
          for records of Amazon's own that upstream Xen does not know).

  end:
    doc: Ends the records.
    -fg-checks:
      - rule: hvm-end-length
        expr: _io.size == 0
        expect: an empty body
        found: '{_io.size} octets'
        doc: The END descriptor has length 0 (the hypervisor stops at its typecode and reads no further).

  header:
    doc: Says who saved the context (hvm_save_header); 24 octets.
    seq:
      - id: magic
        type: u4
        valid: 0x54381286
        -fg-rule: hvm-header-magic
        -fg-expect: 0x54381286 (HVM_FILE_MAGIC)
        -fg-found: '{_:x}'
      - id: version
        type: u4
        valid: 1
        -fg-rule: hvm-header-version
        -fg-found: '{_}'
        doc: Format version; 1 is the only one.
      - id: changeset
        type: u8
        doc: The saving Xen's source revision (the hex digits after the last colon of its changeset string), or all ones when unknown.
      - id: cpuid
        type: u4
        doc: CPUID leaf 1 EAX (family, model, stepping) of the saving host; a restore on another CPU is only logged.
      - id: gtsc_khz
        type: u4
        doc: The guest's TSC frequency in kHz; 0 keeps the restoring host's.
    -fg-checks:
      - rule: hvm-header-length
        expr: _io.size == 24
        expect: a body of 24 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the header only at its exact size.

  cpu:
    doc: |
      One vCPU's registers (hvm_hw_cpu); instance: the vCPU. 1032 octets since
      Xen 4.7 (flags and padding added), 1024 from Xen 3.4 (msr_tsc_aux
      added) and 1016 before (msr_tsc_aux absent from the middle of the
      layout: that form is recognised by its length, as the hypervisor does).
      A body of another length up to 1032 is zero-extended by the hypervisor.
    seq:
      - id: fpu_regs
        size: 512
        doc: The FPU, MMX and SSE state in the FXSAVE image format.
      - id: rax
        type: u8
      - id: rbx
        type: u8
      - id: rcx
        type: u8
      - id: rdx
        type: u8
      - id: rbp
        type: u8
      - id: rsi
        type: u8
      - id: rdi
        type: u8
      - id: rsp
        type: u8
      - id: r8
        type: u8
      - id: r9
        type: u8
      - id: r10
        type: u8
      - id: r11
        type: u8
      - id: r12
        type: u8
      - id: r13
        type: u8
      - id: r14
        type: u8
      - id: r15
        type: u8
      - id: rip
        type: u8
      - id: rflags
        type: u8
      - id: cr0
        type: u8
      - id: cr2
        type: u8
        doc: The last page-fault address.
      - id: cr3
        type: u8
        doc: The page-table base, a guest-physical address.
      - id: cr4
        type: u8
      - id: dr0
        type: u8
      - id: dr1
        type: u8
      - id: dr2
        type: u8
      - id: dr3
        type: u8
      - id: dr6
        type: u8
        valid:
          max: 0xffffffff
        -fg-rule: hvm-cpu-debug-high
        -fg-expect: the upper 32 bits clear
        -fg-found: '{_:x}'
        doc: Debug status; the hypervisor refuses one with upper bits set.
      - id: dr7
        type: u8
        valid:
          max: 0xffffffff
        -fg-rule: hvm-cpu-debug-high
        -fg-expect: the upper 32 bits clear
        -fg-found: '{_:x}'
        doc: Debug control; the hypervisor refuses one with upper bits set.
      - id: cs_sel
        type: u4
      - id: ds_sel
        type: u4
      - id: es_sel
        type: u4
      - id: fs_sel
        type: u4
      - id: gs_sel
        type: u4
      - id: ss_sel
        type: u4
      - id: tr_sel
        type: u4
      - id: ldtr_sel
        type: u4
      - id: cs_limit
        type: u4
      - id: ds_limit
        type: u4
      - id: es_limit
        type: u4
      - id: fs_limit
        type: u4
      - id: gs_limit
        type: u4
      - id: ss_limit
        type: u4
      - id: tr_limit
        type: u4
      - id: ldtr_limit
        type: u4
      - id: idtr_limit
        type: u4
      - id: gdtr_limit
        type: u4
      - id: cs_base
        type: u8
      - id: ds_base
        type: u8
      - id: es_base
        type: u8
      - id: fs_base
        type: u8
      - id: gs_base
        type: u8
      - id: ss_base
        type: u8
      - id: tr_base
        type: u8
      - id: ldtr_base
        type: u8
      - id: idtr_base
        type: u8
      - id: gdtr_base
        type: u8
      - id: cs_arbytes
        type: u4
        doc: 'Segment attributes: type, S, DPL, P in bits 0-7, AVL, L, D/B, G in bits 8-11 (older Xens on Intel saved the VMCS form, bits 12-15 for the latter).'
      - id: ds_arbytes
        type: u4
      - id: es_arbytes
        type: u4
      - id: fs_arbytes
        type: u4
      - id: gs_arbytes
        type: u4
      - id: ss_arbytes
        type: u4
      - id: tr_arbytes
        type: u4
      - id: ldtr_arbytes
        type: u4
      - id: sysenter_cs
        type: u8
        doc: Before Xen 3.4, 32 bits followed by 32 bits of padding (the same octets when the padding is zero).
      - id: sysenter_esp
        type: u8
      - id: sysenter_eip
        type: u8
      - id: shadow_gs
        type: u8
        doc: The base SWAPGS exchanges with gs_base (MSR_SHADOW_GS_BASE, the kernel's GS base while in user mode).
      - id: msr_flags
        type: u8
        doc: Obsolete; the hypervisor ignores it.
      - id: msr_lstar
        type: u8
        doc: The 64-bit SYSCALL entry point.
      - id: msr_star
        type: u8
      - id: msr_cstar
        type: u8
        doc: The compatibility-mode SYSCALL entry point.
      - id: msr_syscall_mask
        type: u8
      - id: msr_efer
        type: u8
      - id: msr_tsc_aux
        type: u8
        if: _io.size != 1016
        valid:
          max: 0xffffffff
        -fg-rule: hvm-cpu-tsc-aux-high
        -fg-expect: the upper 32 bits clear
        -fg-found: '{_:x}'
        doc: What RDTSCP returns in ECX; absent from the 1016-octet form (Xen 3.3 and earlier).
      - id: tsc
        type: u8
        doc: The guest's TSC when it was saved.
      - id: pending_event
        type: u4
        doc: 'An event being delivered when the vCPU stopped: bits 0-7 vector, 8-10 type, 11 error code valid, 31 valid.'
      - id: error_code
        type: u4
        doc: The pending event's error code.
      - id: flags
        type: u4
        if: _io.size >= 1028
        valid:
          max: 1
        -fg-rule: hvm-cpu-flags
        -fg-expect: 'only bit 0 (FPU initialised) set'
        -fg-found: '{_:x}'
        doc: 'Bit 0: the FPU state is initialised. Since Xen 4.7; older bodies mean it set.'
      - id: pad0
        type: u4
        if: _io.size >= 1032
        valid: 0
        -fg-rule: hvm-cpu-pad
    -fg-checks:
      - rule: hvm-cpu-length
        expr: _io.size == 1016 or (_io.size >= 1024 and _io.size <= 1032)
        expect: a body of 1032 octets (Xen 4.7 and later), 1024 (Xen 3.4 to 4.6) or 1016 (Xen 3.3 and earlier)
        found: '{_io.size} octets'
        doc: >-
          The hypervisor takes a CPU body of at most 1032 octets; one shorter than 1024
          is read in the 1016-octet form only at exactly that size.
    instances:
      pending_vector:
        value: pending_event & 0xff
      pending_type:
        value: (pending_event >> 8) & 7
        enum: event_type
      pending_error_valid:
        value: (pending_event & 0x800) != 0
      pending_valid:
        value: (pending_event & 0x80000000) != 0

  pic:
    doc: One of the two 8259 interrupt controllers (hvm_hw_vpic); instance 0 the master, 1 the slave; 8 octets.
    seq:
      - id: irr
        type: u1
        doc: Interrupt request register.
      - id: imr
        type: u1
        doc: Interrupt mask register.
      - id: isr
        type: u1
        doc: In-service register.
      - id: irq_base
        type: u1
        doc: Line x raises vector irq_base + x.
      - id: state
        type: u1
        doc: 'Bits 0-3: where the ICW2-ICW4 initialisation sequence is (0: none in progress); bits 4-7: the line of highest priority.'
      - id: modes
        type: u1
        doc: 'Bit 0 reads return ISR (else IRR), 1 poll, 2 auto EOI, 3 rotate on auto EOI, 4 special fully nested, 5 special mask, 6 master.'
      - id: elcr
        type: u1
        doc: Edge/level trigger selection, a bit per line.
      - id: int_output
        type: u1
        doc: The controller's INT output.
    -fg-checks:
      - rule: hvm-pic-length
        expr: _io.size == 8
        expect: a body of 8 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes a PIC only at its exact size.
    instances:
      init_state:
        value: state & 0x0f
      priority_add:
        value: state >> 4
      readsel_isr:
        value: (modes & 0x01) != 0
      poll:
        value: (modes & 0x02) != 0
      auto_eoi:
        value: (modes & 0x04) != 0
      rotate_on_auto_eoi:
        value: (modes & 0x08) != 0
      special_fully_nested_mode:
        value: (modes & 0x10) != 0
      special_mask_mode:
        value: (modes & 0x20) != 0
      is_master:
        value: (modes & 0x40) != 0

  ioapic:
    doc: The I/O APIC (hvm_hw_vioapic) with its 48 pins (16 ISA, 32 PCI); 400 octets.
    seq:
      - id: base_address
        type: u8
        doc: Guest-physical address of its registers (0xfec00000 by default).
      - id: ioregsel
        type: u4
        doc: The register index last selected.
      - id: id
        type: u4
      - id: redirtbl
        type: redirection_entry
        repeat: expr
        repeat-expr: 48
    -fg-checks:
      - rule: hvm-ioapic-length
        expr: _io.size == 400
        expect: a body of 400 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the I/O APIC only at its exact size (48 pins).

  redirection_entry:
    doc: One pin's routing, 8 octets.
    seq:
      - id: vector
        type: u1
      - id: delivery
        type: u1
        doc: 'Bits 0-2 delivery mode, 3 destination mode (logical), 4 delivery status, 5 polarity (low), 6 remote IRR, 7 trigger mode (level).'
      - id: mask_bits
        type: u1
        doc: 'Bit 0: the pin is masked.'
      - id: reserved
        size: 4
      - id: dest_id
        type: u1
    instances:
      delivery_mode:
        value: delivery & 7
      masked:
        value: (mask_bits & 1) != 0
      level_triggered:
        value: (delivery & 0x80) != 0

  lapic:
    doc: |
      One vCPU's local APIC state besides its registers (hvm_hw_lapic);
      instance: the vCPU. 32 octets since Xen 4.21 (pending_esr), 24 from
      Xen 4.1 (tdt_msr), 16 before; the hypervisor zero-extends a shorter one.
    seq:
      - id: apic_base_msr
        type: u8
        doc: MSR_IA32_APICBASE (bit 11 enabled, bit 10 x2APIC mode).
      - id: disabled
        type: u4
        doc: 'Bit 0: disabled by software (the spurious vector register), bit 1: by hardware (the APIC base MSR).'
      - id: timer_divisor
        type: u4
      - id: tdt_msr
        type: u8
        if: _io.size >= 24
        doc: The TSC deadline (MSR_IA32_TSC_DEADLINE).
      - id: pending_esr
        type: u4
        if: _io.size >= 28
        doc: Errors latched since the error status register was last written.
      - id: pad
        type: u4
        if: _io.size >= 32
    -fg-checks:
      - rule: hvm-lapic-length
        expr: _io.size >= 16 and _io.size <= 32
        expect: a body of 16 to 32 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes at most 32 octets; no Xen wrote fewer than 16.

  lapic_regs:
    doc: One vCPU's local APIC register page (the first 1024 octets of it); instance the vCPU.
    seq:
      - id: data
        size: 1024
        doc: The registers at their offsets in the APIC's page (ID at 0x20, TPR at 0x80, ..., timer registers at 0x380-0x3e0).
    -fg-checks:
      - rule: hvm-lapic-regs-length
        expr: _io.size == 1024
        expect: a body of 1024 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the registers only at their exact size.

  pci_irq:
    doc: The PCI INTx wires, a bit per device and pin (device * 4 + pin), 128 bits; 16 octets.
    seq:
      - id: wires
        size: 16
    -fg-checks:
      - rule: hvm-pci-irq-length
        expr: _io.size == 16
        expect: a body of 16 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the PCI wires only at their exact size.

  isa_irq:
    doc: The ISA IRQ wires, a bit per IRQ (16 bits, in an 8-octet word); 8 octets.
    seq:
      - id: wires
        type: u8
    -fg-checks:
      - rule: hvm-isa-irq-length
        expr: _io.size == 8
        expect: a body of 8 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the ISA wires only at their exact size.

  pci_link:
    doc: 'The PCI-to-ISA interrupt router: the ISA IRQ each of the four links routes to; 8 octets.'
    seq:
      - id: route
        type: u1
        repeat: expr
        repeat-expr: 4
        doc: ISA IRQ of each link (0 to 15; 0 disabled).
      - id: pad0
        type: u4
        valid: 0
        -fg-rule: hvm-pci-link-pad
    -fg-checks:
      - rule: hvm-pci-link-length
        expr: _io.size == 8
        expect: a body of 8 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the router only at its exact size.

  pit:
    doc: The 8254 interval timer (hvm_hw_pit); 56 octets.
    seq:
      - id: channels
        type: pit_channel
        repeat: expr
        repeat-expr: 3
      - id: speaker_data_on
        type: u4
      - id: pad0
        type: u4
        valid: 0
        -fg-rule: hvm-pit-pad
    -fg-checks:
      - rule: hvm-pit-length
        expr: _io.size == 56
        expect: a body of 56 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the timer only at its exact size.

  pit_channel:
    doc: One counter of the timer, 16 octets.
    seq:
      - id: count
        type: u4
        doc: The reload value (65536 stands for 0).
      - id: latched_count
        type: u2
      - id: count_latched
        type: u1
      - id: status_latched
        type: u1
      - id: status
        type: u1
      - id: read_state
        type: u1
      - id: write_state
        type: u1
      - id: write_latch
        type: u1
      - id: rw_mode
        type: u1
        doc: 1 low byte, 2 high byte, 3 low then high.
      - id: mode
        type: u1
        doc: Counter mode 0 to 5.
      - id: bcd
        type: u1
      - id: gate
        type: u1

  rtc:
    doc: |
      The CMOS real-time clock (hvm_hw_rtc). 24 octets since Xen 4.14
      (rtc_offset), 16 before; the hypervisor zero-extends a shorter one.
    seq:
      - id: cmos_data
        size: 14
        doc: The clock's registers 0x00-0x0d (time, alarm, status A-D).
      - id: cmos_index
        type: u1
        doc: The register selected by the last write to the index port.
      - id: pad0
        type: u1
      - id: rtc_offset
        type: s8
        if: _io.size >= 24
        doc: Seconds the guest's clock is ahead of the host's (negative when behind).
    -fg-checks:
      - rule: hvm-rtc-length
        expr: _io.size >= 16 and _io.size <= 24
        expect: a body of 16 to 24 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes at most 24 octets; no Xen wrote fewer than 16.

  hpet:
    doc: The high-precision event timer (hvm_hw_hpet) with its three timers; 1048 octets.
    seq:
      - id: capability
        type: u8
      - id: res0
        type: u8
      - id: config
        type: u8
      - id: res1
        type: u8
      - id: isr
        type: u8
        doc: Interrupt status.
      - id: res2
        size: 200
      - id: mc64
        type: u8
        doc: The main counter.
      - id: res3
        type: u8
      - id: timers
        type: hpet_timer
        repeat: expr
        repeat-expr: 3
      - id: res5
        size: 672
        doc: The register space of the timers that do not exist, up to offset 0x3ff.
      - id: period
        type: u8
        repeat: expr
        repeat-expr: 3
        doc: The last value written to each timer's comparator (hidden state).
    -fg-checks:
      - rule: hvm-hpet-length
        expr: _io.size == 1048
        expect: a body of 1048 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the HPET only at its exact size.

  hpet_timer:
    doc: One timer's registers, 32 octets.
    seq:
      - id: config
        type: u8
        doc: Configuration and capabilities.
      - id: cmp
        type: u8
        doc: The comparator.
      - id: fsb
        type: u8
        doc: FSB interrupt route (not emulated).
      - id: res4
        type: u8

  pmtimer:
    doc: The ACPI power-management timer and PM1a event registers; 8 octets.
    seq:
      - id: tmr_val
        type: u4
        doc: The free-running 24/32-bit counter (PM_TMR_BLK).
      - id: pm1a_sts
        type: u2
      - id: pm1a_en
        type: u2
    -fg-checks:
      - rule: hvm-pmtimer-length
        expr: _io.size == 8
        expect: a body of 8 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the PM timer only at its exact size.

  mtrr:
    doc: One vCPU's memory-type range registers and PAT (hvm_hw_mtrr); instance the vCPU; 240 octets.
    seq:
      - id: msr_pat_cr
        type: u8
        doc: The page attribute table (MSR_IA32_CR_PAT).
      - id: var_ranges
        type: mtrr_range
        repeat: expr
        repeat-expr: 8
        doc: The eight variable ranges.
      - id: msr_mtrr_fixed
        type: u8
        repeat: expr
        repeat-expr: 11
        doc: The fixed-range MTRRs (64K_00000, 16K_80000, 16K_A0000, 4K_C0000 to 4K_F8000).
      - id: msr_mtrr_cap
        type: u8
      - id: msr_mtrr_def_type
        type: u8
        doc: 'Default type in bits 0-7; bit 10 fixed ranges enabled, bit 11 MTRRs enabled.'
    -fg-checks:
      - rule: hvm-mtrr-length
        expr: _io.size == 240
        expect: a body of 240 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes the MTRRs only at their exact size.

  mtrr_range:
    doc: A variable range, its PHYSBASE and PHYSMASK MSRs.
    seq:
      - id: base
        type: u8
      - id: mask
        type: u8

  viridian_domain:
    doc: |
      Hyper-V enlightenments of the domain (hvm_viridian_domain_context), sent
      only when they are enabled. 32 octets since Xen 4.6 (reference_tsc), 24
      from Xen 4.5 (time_ref_count), 16 before; zero-extended when shorter.
    seq:
      - id: hypercall_gpa
        type: u8
      - id: guest_os_id
        type: u8
      - id: time_ref_count
        type: u8
        if: _io.size >= 24
      - id: reference_tsc
        type: u8
        if: _io.size >= 32
    -fg-checks:
      - rule: hvm-viridian-domain-length
        expr: _io.size >= 16 and _io.size <= 32
        expect: a body of 16 to 32 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes at most 32 octets; no Xen wrote fewer than 16.

  cpu_xsave:
    doc: |
      One vCPU's extended state (hvm_hw_cpu_xsave); instance the vCPU; sent
      when the vCPU uses XSAVE. Its length follows xcr0_accum: 24 octets of
      masks, then the XSAVE area in its standard (uncompressed) form.
    seq:
      - id: xfeature_mask
        type: u8
        doc: The saving host's feature mask; ignored by the hypervisor.
      - id: xcr0
        type: u8
        doc: XCR0 as the guest last set it.
      - id: xcr0_accum
        type: u8
        doc: Every feature XCR0 has enabled; sizes the area.
      - id: fpu_sse
        size: 512
        doc: The legacy region (the FXSAVE image).
      - id: xstate_bv
        type: u8
        doc: The components the area holds.
      - id: xcomp_bv
        type: u8
        valid:
          max: '0x7fffffffffffffff'
        -fg-rule: hvm-xsave-compressed
        -fg-expect: the standard form (bit 63 clear)
        -fg-found: 'the compressed form ({_:x})'
        doc: 0 in the standard form; bit 63 set marks a compressed area, which the hypervisor refuses.
      - id: header_reserved
        size: 48
      - id: extended
        size-eos: true
        doc: The components past the legacy region and header (AVX and later), at their standard offsets less 576.
    -fg-checks:
      - rule: hvm-xsave-length
        expr: _io.size >= 600
        expect: a body of at least 600 octets (the masks, the legacy region and the header)
        found: '{_io.size} octets'
        doc: The hypervisor refuses a shorter one.

  viridian_vcpu:
    doc: |
      One vCPU's Hyper-V state (hvm_viridian_vcpu_context); instance the vCPU;
      sent only when the enlightenments are enabled. 216 octets since Xen 4.13
      (synthetic interrupts and timers), 16 from Xen 4.7 (the assist vector),
      8 before; zero-extended when shorter.
    seq:
      - id: vp_assist_msr
        type: u8
      - id: apic_assist_pending
        type: u1
        if: _io.size >= 9
      - id: pad
        size: 7
        if: _io.size >= 16
      - id: simp_msr
        type: u8
        if: _io.size >= 24
      - id: sint_msr
        type: u8
        repeat: expr
        repeat-expr: 16
        if: _io.size >= 152
      - id: stimer_config_msr
        type: u8
        repeat: expr
        repeat-expr: 4
        if: _io.size >= 184
      - id: stimer_count_msr
        type: u8
        repeat: expr
        repeat-expr: 4
        if: _io.size >= 216
    -fg-checks:
      - rule: hvm-viridian-vcpu-length
        expr: _io.size >= 8 and _io.size <= 216
        expect: a body of 8 to 216 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes at most 216 octets; no Xen wrote fewer than 8.

  vmce_vcpu:
    doc: |
      One vCPU's virtual machine-check state (hvm_vmce_vcpu); instance the
      vCPU. 32 octets since Xen 4.10 (mcg_ext_ctl), 24 from Xen 4.3 (the bank
      controls), 8 before; zero-extended when shorter.
    seq:
      - id: caps
        type: u8
        doc: MCG_CAP as the guest sees it.
      - id: mci_ctl2_bank0
        type: u8
        if: _io.size >= 16
      - id: mci_ctl2_bank1
        type: u8
        if: _io.size >= 24
      - id: mcg_ext_ctl
        type: u8
        if: _io.size >= 32
    -fg-checks:
      - rule: hvm-vmce-length
        expr: _io.size >= 8 and _io.size <= 32
        expect: a body of 8 to 32 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes at most 32 octets; no Xen wrote fewer than 8.

  tsc_adjust:
    doc: One vCPU's IA32_TSC_ADJUST MSR; instance the vCPU; 8 octets.
    seq:
      - id: tsc_adjust
        type: u8
    -fg-checks:
      - rule: hvm-tsc-adjust-length
        expr: _io.size == 8
        expect: a body of 8 octets
        found: '{_io.size} octets'
        doc: The hypervisor takes TSC_ADJUST only at its exact size.

  cpu_msr:
    doc: |
      One vCPU's MSRs that have no record of their own (hvm_msr); instance the
      vCPU; sent only when one of them is not zero. A count, 4 octets of
      alignment, then count entries of 16 octets.
    seq:
      - id: count
        type: u4
      - id: pad
        type: u4
        doc: Alignment of the entries; not read by the hypervisor.
      - id: msrs
        type: msr
        repeat: expr
        repeat-expr: count
    -fg-checks:
      - rule: hvm-msr-length
        expr: _io.size >= 24 and _io.size == 8 + 16 * count
        expect: 'a body of {8 + 16 * count} octets for count {count} (at least one entry)'
        found: '{_io.size} octets'
        doc: The hypervisor wants at least one entry and exactly count of them.

  msr:
    doc: One MSR, 16 octets.
    seq:
      - id: index
        type: u4
        doc: The MSR's number (MSR_SPEC_CTRL 0x48, MSR_INTEL_MISC_FEATURES_ENABLES 0x140, ...).
      - id: reserved
        type: u4
        valid: 0
        -fg-rule: hvm-msr-reserved
      - id: value
        type: u8

enums:
  save_type:
    0: end
    1: header
    2: cpu
    3: pic
    4: ioapic
    5: lapic
    6: lapic_regs
    7: pci_irq
    8: isa_irq
    9: pci_link
    10: pit
    11: rtc
    12: hpet
    13: pmtimer
    14: mtrr
    15: viridian_domain
    16: cpu_xsave
    17: viridian_vcpu
    18: vmce_vcpu
    19: tsc_adjust
    20: cpu_msr
  event_type:
    0: external_interrupt
    2: nmi
    3: hardware_exception
    4: software_interrupt
    5: privileged_software_exception
    6: software_exception
