using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using FormatGen.Xen.Hvm;
using FormatGen.Xen.Pv;

namespace FormatGen.Xen;

public static partial class LibxcSample
{
    /// <summary>
    /// The registers the sample gives vCPU <paramref name="vcpu"/> (0 to
    /// <see cref="SampleOptions.Vcpus"/> - 1), a 64-bit Linux kernel's, each
    /// vCPU somewhere else in it: what its HVM CPU record or its PV
    /// vcpu_guest_context holds (for PV, <c>Cr3</c> in the stream's form, the
    /// page table's pfn shifted by 12). The same for every image of these options.
    /// </summary>
    public static FormatGen.Xen.VcpuRegisters VcpuRegisters(SampleOptions o, int vcpu)
    {
        Check(o);
        if (vcpu < 0 || vcpu >= o.Vcpus) throw new ArgumentOutOfRangeException(nameof(vcpu), vcpu, "no such vcpu in the sample");
        var m = Memory.Of(o);
        ulong v = (ulong)vcpu;
        ulong stack = 0xffffc90000080000UL + 0x4000 * v; // the vCPU's kernel stack
        ulong task = 0xffff888003a40000UL + 0x2c80 * v;  // the task it runs
        return new FormatGen.Xen.VcpuRegisters
        {
            Id = (uint)vcpu,
            Rax = v,
            Rbx = task,
            Rcx = 0x2a + v,
            // A PV guest's vCPU 0 stopped in its suspend hypercall, which passes the start info's pfn in rdx.
            Rdx = m.Pv && vcpu == 0 ? (ulong)StartInfoPfn(m) : 0x10 * v,
            Rsi = 0xffffffff82a1c0e0UL,
            Rdi = task + 0x40,
            Rbp = stack + 0x3ea8,
            Rsp = stack + 0x3e58,
            R8 = 0x0000001a2b3c4d00UL + v,
            R9 = 0,
            R10 = 0x7ffd4c3b2a10UL - 0x100 * v,
            R11 = 0x246,
            R12 = v,
            R13 = 0xffffffff82c0d940UL,
            R14 = task + 0x9c0,
            R15 = 0,
            Rip = 0xffffffff81a3c2e0UL + 0x40 * v, // each vCPU somewhere in the idle loop
            Rflags = 0x246,                        // IF, ZF, PF
            // Kernel code and stack: Linux's selectors under HVM, Xen's flat 64-bit ones (FLAT_KERNEL_CS64, _SS64) under PV.
            Cs = m.Pv ? (ushort)0xe033 : (ushort)0x10,
            Ss = m.Pv ? (ushort)0xe02b : (ushort)0x18,
            Ds = m.Pv ? (ushort)0 : (ushort)0x18,
            Es = m.Pv ? (ushort)0 : (ushort)0x18,
            FsBase = 0x7f3a5c2e4740UL + 0x1000 * v,
            GsBase = 0xffff88803fc00000UL + 0x40000 * v, // the kernel's per-CPU area
            Cr0 = 0x80050033,                      // PG, AM, WP, NE, ET, MP, PE
            Cr2 = 0x7f3a5c2e1000UL + 0x1000 * v,   // the last page fault, in user space
            Cr3 = (ulong)PageTablePfn(o, m, vcpu) << PageShift,
            Cr4 = 0x406f0,                         // OSXSAVE, OSXMMEXCPT, OSFXSR, PGE, MCE, PAE, PSE
            Fpu = Fxsave,
            Source = m.Pv ? "PV vcpu context (64-bit)" : "HVM CPU record",
        };
    }

    /// <summary>
    /// The vCPU's page-table base: for PV an L4 page table the sample's memory
    /// holds (pfns FirstTable to FirstFrame - 1, whose type is 1 + pfn % 4), as
    /// Xen's restore requires; for HVM a page of the guest's memory.
    /// </summary>
    private static long PageTablePfn(SampleOptions o, Memory m, int vcpu)
    {
        if (!m.Pv) return (m.Pages / 2 + 2L * vcpu) % m.Pages;
        long first = m.FirstTable + ((3 - m.FirstTable % 4) + 4) % 4; // the first pfn with pfn % 4 == 3 (L4TAB)
        long count = first < m.FirstFrame ? (m.FirstFrame - 1 - first) / 4 + 1 : 0;
        return count == 0 ? m.FirstTable : first + 4 * (vcpu % count);
    }

    /// <summary>A normal (NOTAB) page below the page tables, when memory has one; pfn 0 otherwise.</summary>
    private static long LowPfn(Memory m, long k) => m.FirstTable > k ? k : Math.Max(0, m.FirstTable - 1);

    private static long StartInfoPfn(Memory m) => LowPfn(m, 2);

    private static long GdtPfn(Memory m, int vcpu) => LowPfn(m, 3 + vcpu);

    /// <summary>FXSAVE image of a vCPU that has used the FPU: control word and MXCSR at their reset values.</summary>
    private static readonly byte[] Fxsave = FxsaveImage();

    private static byte[] FxsaveImage()
    {
        var b = new byte[512];
        BinaryPrimitives.WriteUInt16LittleEndian(b, 0x037f);       // FCW
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), 0x1f80); // MXCSR
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), 0xffff); // MXCSR_MASK
        return b;
    }

    // ------------------------------------------------------------ PV

    /// <summary>vCPU <paramref name="vcpu"/>'s vcpu_guest_context (a 64-bit guest's, 5168 octets), as a stream carries it.</summary>
    internal static byte[] PvVcpuContext(SampleOptions o, int vcpu)
    {
        var m = Memory.Of(o);
        var r = VcpuRegisters(o, vcpu);
        const ushort kernelCs = 0xe033, kernelSs = 0xe02b; // FLAT_KERNEL_CS64, FLAT_KERNEL_SS64
        var traps = new TrapInfo64[256];
        // Octets the layouts leave for alignment are written as the grammar gives them: zero here.
        for (int i = 0; i < traps.Length; i++) traps[i] = new TrapInfo64 { Pad = new byte[4] };
        for (int vector = 0; vector < 20; vector++)
        {
            // Breakpoint and overflow may be raised from user space (DPL 3).
            byte dpl = (byte)(vector is 3 or 4 ? 3 : 0);
            traps[vector] = new TrapInfo64 { Vector = (byte)vector, Flags = dpl, Cs = kernelCs, Pad = new byte[4], Address = 0xffffffff81c01000UL + 0x40 * (ulong)vector };
        }
        var gdt = new ulong[16];
        gdt[0] = (ulong)GdtPfn(m, vcpu);
        var ctrl = new ulong[8];
        ctrl[0] = r.Cr0;
        ctrl[2] = r.Cr2;
        ctrl[3] = r.Cr3;
        ctrl[4] = r.Cr4;
        var debug = new ulong[8];
        debug[6] = 0xffff0ff0; // DR6 and DR7 at their reset values
        debug[7] = 0x400;
        var context = new VcpuGuestContext64
        {
            FpuCtxt = r.Fpu,
            Flags = 0x25, // VGCF_online, VGCF_in_kernel, VGCF_i387_valid
            UserRegs = new CpuUserRegs64
            {
                R15 = r.R15, R14 = r.R14, R13 = r.R13, R12 = r.R12, Rbp = r.Rbp, Rbx = r.Rbx,
                R11 = r.R11, R10 = r.R10, R9 = r.R9, R8 = r.R8, Rax = r.Rax, Rcx = r.Rcx, Rdx = r.Rdx,
                Rsi = r.Rsi, Rdi = r.Rdi, Rip = r.Rip, Cs = r.Cs, Rflags = r.Rflags, Rsp = r.Rsp, Ss = r.Ss,
                Es = r.Es, Ds = r.Ds, Fs = r.Fs, Gs = r.Gs,
                Pad1 = new byte[3], Pad2 = new byte[6], Pad3 = new byte[6], Pad4 = new byte[6], Pad5 = new byte[6], Pad6 = new byte[6],
            },
            TrapCtxt = traps,
            GdtFrames = gdt,
            GdtEnts = 16,
            KernelSs = kernelSs,
            KernelSp = (r.Rsp & ~0x3fffUL) + 0x4000,
            Ctrlreg = ctrl,
            Debugreg = debug,
            EventCallbackEip = 0xffffffff81c01300UL,
            FailsafeCallbackEip = 0xffffffff81c01360UL,
            SyscallCallbackEip = 0xffffffff81c00080UL,
            VmAssist = (1UL << 2) | (1UL << 5), // writable page tables, runstate update flag
            FsBase = r.FsBase,
            GsBaseKernel = r.GsBase,
            GsBaseUser = 0,
        };
        return new PvVcpu { Context = context }.ToArray(8);
    }

    // ------------------------------------------------------------ HVM

    /// <summary>
    /// The HVM context (the HVM_CONTEXT record's body) as Xen 4.19 saves it for
    /// the sample's guest: HEADER, then each kind of state in typecode order
    /// (per-vCPU kinds once per vCPU), END.
    /// </summary>
    internal static byte[] HvmContextBlob(SampleOptions o)
    {
        int n = o.Vcpus;
        var records = new List<SaveRecord>();
        void Add(int instance, ISaveRecordBody body) => records.Add(new SaveRecord { Instance = (ushort)instance, Body = body });
        for (int v = 0; v < n; v++) Add(v, HvmCpu(o, v));
        // The PICs: the master (instance 0) and the slave, masked: the guest uses the I/O APIC.
        Add(0, new Pic { Imr = 0xff, IrqBase = 0x30, Modes = 0x40 });
        Add(1, new Pic { Imr = 0xff, IrqBase = 0x38, Elcr = 0x0c });
        Add(0, Ioapic());
        for (int v = 0; v < n; v++)
            Add(v, new Lapic { ApicBaseMsr = 0xfee00800UL | (v == 0 ? 0x100UL : 0), TimerDivisor = 16, TdtMsr = HvmTsc(v) + 0x3d090, PendingEsr = 0, Pad = 0 });
        for (int v = 0; v < n; v++) Add(v, new LapicRegs { Data = LapicPage(v) });
        Add(0, new PciIrq { Wires = new byte[16] });
        Add(0, new IsaIrq());
        Add(0, new PciLink { Route = new byte[] { 5, 10, 11, 5 } });
        Add(0, Pit());
        Add(0, Rtc());
        Add(0, Hpet());
        Add(0, new Pmtimer { TmrVal = 0x00a1b2c3, Pm1aEn = 0x0100 });
        for (int v = 0; v < n; v++) Add(v, Mtrr());
        for (int v = 0; v < n; v++) Add(v, Xsave());
        for (int v = 0; v < n; v++) Add(v, new VmceVcpu { Caps = 0x802, MciCtl2Bank0 = 0, MciCtl2Bank1 = 0, McgExtCtl = 0 });
        for (int v = 0; v < n; v++) Add(v, new TscAdjust { TscAdjustValue = 0 });
        for (int v = 0; v < n; v++) Add(v, new CpuMsr { Msrs = new[] { new Msr { Index = 0x48, Value = 1 } } }); // MSR_SPEC_CTRL: IBRS
        records.Add(new SaveRecord { Body = new End() });
        var header = new SaveRecord
        {
            Body = new Header { Changeset = 0x2ecd3d1, Cpuid = 0x000906ea, GtscKhz = 2_400_000 },
        };
        return new HvmContext { HeaderRecord = header, Records = records }.ToArray();
    }

    private static ulong HvmTsc(int vcpu) => 0x1b4f3c2a1d0UL + 0x1d4c0UL * (ulong)vcpu;

    private static Cpu HvmCpu(SampleOptions o, int vcpu)
    {
        var r = VcpuRegisters(o, vcpu);
        ulong v = (ulong)vcpu;
        ulong entryArea = 0xfffffe0000001000UL + 0x3b000UL * v; // the vCPU's GDT and TSS
        return new Cpu
        {
            FpuRegs = r.Fpu,
            Rax = r.Rax, Rbx = r.Rbx, Rcx = r.Rcx, Rdx = r.Rdx, Rbp = r.Rbp, Rsi = r.Rsi, Rdi = r.Rdi, Rsp = r.Rsp,
            R8 = r.R8, R9 = r.R9, R10 = r.R10, R11 = r.R11, R12 = r.R12, R13 = r.R13, R14 = r.R14, R15 = r.R15,
            Rip = r.Rip, Rflags = r.Rflags,
            Cr0 = r.Cr0, Cr2 = r.Cr2, Cr3 = r.Cr3, Cr4 = r.Cr4,
            Dr6 = 0xffff0ff0, Dr7 = 0x400,
            CsSel = r.Cs, DsSel = r.Ds, EsSel = r.Es, FsSel = r.Fs, GsSel = r.Gs, SsSel = r.Ss, TrSel = 0x40,
            CsLimit = 0xffffffff, DsLimit = 0xffffffff, EsLimit = 0xffffffff, FsLimit = 0xffffffff, GsLimit = 0xffffffff, SsLimit = 0xffffffff,
            TrLimit = 0x4087, IdtrLimit = 0xfff, GdtrLimit = 0x7f,
            FsBase = r.FsBase, GsBase = r.GsBase, TrBase = entryArea + 0x2000, IdtrBase = 0xfffffe0000000000UL, GdtrBase = entryArea,
            // Attributes: present code (long mode, 4K granular), present data, a busy TSS.
            CsArbytes = 0xa9b, DsArbytes = 0xc93, EsArbytes = 0xc93, SsArbytes = 0xc93, TrArbytes = 0x8b,
            SysenterCs = 0x10, SysenterEsp = entryArea + 0x5000, SysenterEip = 0xffffffff81c01680UL,
            ShadowGs = 0, // user mode's GS base
            MsrLstar = 0xffffffff81c00080UL, MsrStar = 0x0023001000000000UL, MsrCstar = 0xffffffff81c01a10UL, MsrSyscallMask = 0x47700,
            MsrEfer = 0xd01, // NXE, LMA, LME, SCE
            MsrTscAux = v,   // Linux keeps the CPU's number there
            Tsc = HvmTsc(vcpu),
            Flags = 1,       // the FPU is initialised
            Pad0 = 0,
        };
    }

    private static Ioapic Ioapic()
    {
        var pins = new RedirectionEntry[48];
        for (int pin = 0; pin < pins.Length; pin++) pins[pin] = new RedirectionEntry { MaskBits = 1, Reserved = new byte[4] };
        // ISA interrupts (edge, active high) and the Xen platform device's PCI interrupt (level, active low), to vCPU 0.
        foreach (int pin in new[] { 1, 4, 8, 9, 12 })
            pins[pin] = new RedirectionEntry { Vector = (byte)(0x20 + pin), Delivery = 0x08, Reserved = new byte[4], DestId = 1 };
        pins[28] = new RedirectionEntry { Vector = 0x41, Delivery = 0xa8, Reserved = new byte[4], DestId = 1 };
        return new Ioapic { BaseAddress = 0xfec00000, Id = 1, Redirtbl = pins };
    }

    /// <summary>The local APIC's register page: ID, version, enabled with the TSC-deadline timer.</summary>
    private static byte[] LapicPage(int vcpu)
    {
        var page = new byte[1024];
        void Reg(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(offset), value);
        Reg(0x20, (uint)(2 * vcpu) << 24); // APIC ID (Xen gives vCPU n the ID 2n)
        Reg(0x30, 0x50014);                // version
        Reg(0xd0, 1u << (24 + vcpu % 8));  // logical destination
        Reg(0xe0, 0xffffffff);             // flat model
        Reg(0xf0, 0x1ff);                  // enabled, spurious vector 0xff
        Reg(0x320, 0x400ec);               // timer: TSC deadline, vector 0xec
        Reg(0x350, vcpu == 0 ? 0x700u : 0x10700u); // LINT0: ExtINT, masked but on the BSP
        Reg(0x360, 0x400);                 // LINT1: NMI
        Reg(0x370, 0xfe);                  // error vector
        Reg(0x3e0, 0x3);                   // timer divide by 16
        return page;
    }

    private static Pit Pit()
    {
        // Channel 0 the periodic tick (mode 2), 1 the old refresh counter, 2 the speaker (gate off).
        PitChannel Channel(uint count, byte mode, byte gate) => new() { Count = count, RwMode = 3, ReadState = 3, WriteState = 3, Mode = mode, Gate = gate };
        return new Pit { Channels = new[] { Channel(0x10000, 2, 1), Channel(0x12, 2, 1), Channel(0x10000, 0, 0) } };
    }

    private static Rtc Rtc() => new()
    {
        // 10:15:30 on Thursday 27 November 2025 (BCD), 24-hour mode, registers A-D.
        CmosData = new byte[] { 0x30, 0, 0x15, 0, 0x10, 0, 0x05, 0x27, 0x11, 0x25, 0x26, 0x02, 0x00, 0x80 },
        CmosIndex = 0x0c,
        RtcOffset = -18000, // a guest kept on local time, five hours behind the host's UTC
    };

    private static Hpet Hpet()
    {
        var timers = new HpetTimer[3];
        for (int i = 0; i < timers.Length; i++)
            timers[i] = new HpetTimer { Config = 0x00f0000000000030UL, Cmp = 0xffffffffffffffffUL };
        return new Hpet
        {
            Capability = 0x05f5e1008086a201UL, // 100 ns period, vendor 8086, 3 timers, 64-bit counter, legacy routing
            Config = 1,
            Res2 = new byte[200],
            Mc64 = 0x2a3b4c5d,
            Timers = timers,
            Res5 = new byte[672],
            Period = new ulong[3],
        };
    }

    private static Mtrr Mtrr()
    {
        var ranges = new MtrrRange[8];
        for (int i = 0; i < ranges.Length; i++) ranges[i] = new MtrrRange();
        ranges[0] = new MtrrRange { Base = 0xf0000000, Mask = 0xff0000800UL }; // the PCI hole uncached
        var fixedRanges = new ulong[11];
        for (int i = 0; i < fixedRanges.Length; i++) fixedRanges[i] = i == 2 ? 0 : 0x0606060606060606UL; // write-back but the VGA window
        return new Mtrr
        {
            MsrPatCr = 0x0007040600070406UL, // WB, WT, UC-, UC twice
            VarRanges = ranges,
            MsrMtrrFixed = fixedRanges,
            MsrMtrrCap = 0x508,              // write-combining, fixed ranges, 8 variable ranges
            MsrMtrrDefType = 0xc06,          // enabled, fixed ranges enabled, write-back by default
        };
    }

    private static CpuXsave Xsave() => new()
    {
        XfeatureMask = 0x7,
        Xcr0 = 0x7,      // x87, SSE, AVX
        Xcr0Accum = 0x7,
        FpuSse = Fxsave,
        XstateBv = 0x6,  // SSE and AVX state not in their initial configuration
        HeaderReserved = new byte[48],
        Extended = new byte[256], // the AVX component: the upper halves of YMM0-15
    };
}
