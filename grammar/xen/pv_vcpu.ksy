meta:
  id: pv_vcpu
  title: Xen PV vCPU context (vcpu_guest_context of a 64-bit or 32-bit x86 PV guest)
  license: CC0-1.0
  endian: le
  -fg-namespace: FormatGen.Xen.Pv
doc: |
  One vCPU of an x86 PV guest as the hypervisor hands it out
  (XEN_DOMCTL_getvcpucontext) and takes it back: the context of a libxc
  X86_PV_VCPU_BASIC record, after the record's vcpu_id and reserved field
  (libxc's vcpu_context.context), and the vCPU context of a legacy image's
  tail. Always little-endian (the hypervisor's own x86 data, passed through
  the stream untouched).

  Its layout depends on the guest's width, which the context does not say:
  the stream's X86_PV_INFO does. The root takes it as a parameter
  (guest_width, in octets: 8 for a 64-bit guest, 5168 octets of context; 4
  for a 32-bit one, 2800 octets). A context of the other width's size breaks
  the size rule; one too short for its layout is kept whole, as raw octets.

  In a stream the machine frames the context names are guest frames (pfns),
  as the saving toolstack rewrote them: the GDT frames, ctrlreg[3] (the
  page-table base, in the CR3 format of the guest's width) and, for a
  64-bit guest, ctrlreg[1] (the user page table, when bit 0 is set); vCPU 0's
  user_regs.rdx (edx) is the pfn of the guest's start info page.
  Sources: Xen's public headers xen/include/public/arch-x86/xen.h,
  xen-x86_64.h and xen-x86_32.h, and what libxenguest's restore
  (xg_sr_restore_x86_pv.c) checks.
params:
  - id: guest_width
    type: u1
    doc: The guest's word size in octets, from X86_PV_INFO (8 or 4).
seq:
  - id: context
    size-eos: true
    type:
      switch-on: guest_width
      cases:
        8: vcpu_guest_context_64
        4: vcpu_guest_context_32
    doc: The context in the layout of the guest's width; raw octets for any other width.
types:
  vcpu_guest_context_64:
    doc: vcpu_guest_context of a 64-bit guest; 5168 octets.
    seq:
      - id: fpu_ctxt
        size: 512
        doc: The FPU, MMX and SSE state in the FXSAVE image format.
      - id: flags
        type: u8
        doc: 'VGCF_* bits: 0 the FPU state is valid, 2 in kernel mode, 3 failsafe callback disables events, 4 syscall callback disables events, 5 online.'
      - id: user_regs
        type: cpu_user_regs_64
      - id: trap_ctxt
        type: trap_info_64
        repeat: expr
        repeat-expr: 256
        doc: The virtual IDT, indexed by vector (a vector without a handler is all zero).
      - id: ldt_base
        type: u8
        doc: Linear address of the LDT.
      - id: ldt_ents
        type: u8
        doc: Entries in the LDT.
      - id: gdt_frames
        type: u8
        repeat: expr
        repeat-expr: 16
        doc: The frames of the GDT (guest frames, pfns, in a stream); as many are used as gdt_ents needs (512 entries a frame).
      - id: gdt_ents
        type: u8
        valid:
          max: 7168
        -fg-rule: pv-vcpu-gdt-ents
        -fg-expect: at most 7168 entries (the first reserved GDT entry)
        -fg-found: '{_} entries'
        doc: Entries in the GDT; the restore refuses more than the 14 frames below Xen's own entries hold.
      - id: kernel_ss
        type: u8
        doc: The kernel's stack segment (the virtual TSS's SS1).
      - id: kernel_sp
        type: u8
        doc: The kernel's stack pointer (the virtual TSS's SP1).
      - id: ctrlreg
        type: u8
        repeat: expr
        repeat-expr: 8
        doc: 'CR0 to CR7; ctrlreg[3] the kernel page table (pfn << 12 in a stream), ctrlreg[1] the user page table (pfn << 12 | 1 when there is one).'
      - id: debugreg
        type: u8
        repeat: expr
        repeat-expr: 8
        doc: DR0 to DR7.
      - id: event_callback_eip
        type: u8
        doc: The guest's entry for event upcalls.
      - id: failsafe_callback_eip
        type: u8
        doc: The guest's entry when a segment reload fails on return to it.
      - id: syscall_callback_eip
        type: u8
        doc: The guest's entry for SYSCALL.
      - id: vm_assist
        type: u8
        doc: 'VMASST_TYPE_* bits: 2 writable page tables, 4 architectural IOPL, 5 runstate update flag, 32 strict M2P, ...'
      - id: fs_base
        type: u8
      - id: gs_base_kernel
        type: u8
        doc: The GS base in kernel mode.
      - id: gs_base_user
        type: u8
        doc: The GS base in user mode.
    -fg-checks:
      - rule: pv-vcpu-context-size
        expr: _io.size == 5168
        expect: a context of 5168 octets (a 64-bit guest)
        found: '{_io.size} octets'
        doc: The hypervisor takes a 64-bit guest's context at this size only.

  cpu_user_regs_64:
    doc: The general registers of a 64-bit guest (cpu_user_regs); 200 octets.
    seq:
      - id: r15
        type: u8
      - id: r14
        type: u8
      - id: r13
        type: u8
      - id: r12
        type: u8
      - id: rbp
        type: u8
      - id: rbx
        type: u8
      - id: r11
        type: u8
      - id: r10
        type: u8
      - id: r9
        type: u8
      - id: r8
        type: u8
      - id: rax
        type: u8
      - id: rcx
        type: u8
      - id: rdx
        type: u8
        doc: For vCPU 0 in a stream, the pfn of the start info page.
      - id: rsi
        type: u8
      - id: rdi
        type: u8
      - id: error_code
        type: u4
        doc: Private to the hypervisor.
      - id: entry_vector
        type: u4
        doc: Private to the hypervisor.
      - id: rip
        type: u8
      - id: cs
        type: u2
      - id: pad0
        type: u2
      - id: saved_upcall_mask
        type: u1
        doc: Events masked when the vCPU stopped (rflags.IF is its opposite).
      - id: pad1
        size: 3
      - id: rflags
        type: u8
      - id: rsp
        type: u8
      - id: ss
        type: u2
      - id: pad2
        size: 6
      - id: es
        type: u2
      - id: pad3
        size: 6
      - id: ds
        type: u2
      - id: pad4
        size: 6
      - id: fs
        type: u2
      - id: pad5
        size: 6
      - id: gs
        type: u2
      - id: pad6
        size: 6

  trap_info_64:
    doc: One vector of the virtual IDT of a 64-bit guest; 16 octets.
    seq:
      - id: vector
        type: u1
      - id: flags
        type: u1
        doc: 'Bits 0-1: the privilege level that may raise it with INT; bit 2: events are disabled on entry.'
      - id: cs
        type: u2
      - id: pad
        size: 4
      - id: address
        type: u8
        doc: The handler.
    instances:
      dpl:
        value: flags & 3
      disables_events:
        value: (flags & 4) != 0

  vcpu_guest_context_32:
    doc: vcpu_guest_context of a 32-bit guest; 2800 octets.
    seq:
      - id: fpu_ctxt
        size: 512
        doc: The FPU, MMX and SSE state in the FXSAVE image format.
      - id: flags
        type: u4
        doc: 'VGCF_* bits: 0 the FPU state is valid, 2 in kernel mode, 3 failsafe callback disables events, 4 syscall callback disables events, 5 online.'
      - id: user_regs
        type: cpu_user_regs_32
      - id: trap_ctxt
        type: trap_info_32
        repeat: expr
        repeat-expr: 256
        doc: The virtual IDT, indexed by vector (a vector without a handler is all zero).
      - id: ldt_base
        type: u4
        doc: Linear address of the LDT.
      - id: ldt_ents
        type: u4
        doc: Entries in the LDT.
      - id: gdt_frames
        type: u4
        repeat: expr
        repeat-expr: 16
        doc: The frames of the GDT (guest frames, pfns, in a stream); as many are used as gdt_ents needs (512 entries a frame).
      - id: gdt_ents
        type: u4
        valid:
          max: 7168
        -fg-rule: pv-vcpu-gdt-ents
        -fg-expect: at most 7168 entries (the first reserved GDT entry)
        -fg-found: '{_} entries'
        doc: Entries in the GDT; the restore refuses more than the 14 frames below Xen's own entries hold.
      - id: kernel_ss
        type: u4
        doc: The kernel's stack segment (the virtual TSS's SS1).
      - id: kernel_sp
        type: u4
        doc: The kernel's stack pointer (the virtual TSS's ESP1).
      - id: ctrlreg
        type: u4
        repeat: expr
        repeat-expr: 8
        doc: 'CR0 to CR7; ctrlreg[3] the page table, in a stream pfn << 12 | pfn >> 20 (the PAE CR3 format of a 32-bit guest).'
      - id: debugreg
        type: u4
        repeat: expr
        repeat-expr: 8
        doc: DR0 to DR7.
      - id: event_callback_cs
        type: u4
      - id: event_callback_eip
        type: u4
        doc: The guest's entry for event upcalls.
      - id: failsafe_callback_cs
        type: u4
      - id: failsafe_callback_eip
        type: u4
        doc: The guest's entry when a segment reload fails on return to it.
      - id: vm_assist
        type: u4
        doc: 'VMASST_TYPE_* bits: 0 4GB segments, 2 writable page tables, 3 PAE extended CR3, ...'
    -fg-checks:
      - rule: pv-vcpu-context-size
        expr: _io.size == 2800
        expect: a context of 2800 octets (a 32-bit guest)
        found: '{_io.size} octets'
        doc: The hypervisor takes a 32-bit guest's context at this size only.

  cpu_user_regs_32:
    doc: The general registers of a 32-bit guest (cpu_user_regs); 68 octets.
    seq:
      - id: ebx
        type: u4
      - id: ecx
        type: u4
      - id: edx
        type: u4
        doc: For vCPU 0 in a stream, the pfn of the start info page.
      - id: esi
        type: u4
      - id: edi
        type: u4
      - id: ebp
        type: u4
      - id: eax
        type: u4
      - id: error_code
        type: u2
        doc: Private to the hypervisor.
      - id: entry_vector
        type: u2
        doc: Private to the hypervisor.
      - id: eip
        type: u4
      - id: cs
        type: u2
      - id: saved_upcall_mask
        type: u1
        doc: Events masked when the vCPU stopped (eflags.IF is its opposite).
      - id: pad0
        type: u1
      - id: eflags
        type: u4
      - id: esp
        type: u4
      - id: ss
        type: u2
      - id: pad1
        type: u2
      - id: es
        type: u2
      - id: pad2
        type: u2
      - id: ds
        type: u2
      - id: pad3
        type: u2
      - id: fs
        type: u2
      - id: pad4
        type: u2
      - id: gs
        type: u2
      - id: pad5
        type: u2

  trap_info_32:
    doc: One vector of the virtual IDT of a 32-bit guest; 8 octets.
    seq:
      - id: vector
        type: u1
      - id: flags
        type: u1
        doc: 'Bits 0-1: the privilege level that may raise it with INT; bit 2: events are disabled on entry.'
      - id: cs
        type: u2
      - id: address
        type: u4
        doc: The handler.
    instances:
      dpl:
        value: flags & 3
      disables_events:
        value: (flags & 4) != 0
