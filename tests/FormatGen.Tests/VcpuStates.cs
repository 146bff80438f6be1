using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FormatGen.Xen;
using FormatGen.Xen.Hvm;
using FormatGen.Xen.Libxc;
using FormatGen.Xen.Pv;
using FsCheck;
using FsCheck.Fluent;

namespace FormatGen.Tests;

/// <summary>
/// vCPU state for the tests of hvm_context.ksy and pv_vcpu.ksy: the HVM
/// contexts and PV vcpu contexts of sample images, HVM contexts assembled
/// record by record from octets, and generators of valid ones.
/// </summary>
internal static class VcpuStates
{
    public static byte[] Image(SampleOptions o)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, o);
        return ms.ToArray();
    }

    /// <summary>The body of the HVM_CONTEXT record of an HVM sample.</summary>
    public static byte[] HvmContextOf(SampleOptions o)
        => Libxc.Read(Image(o with { Guest = GuestKind.Hvm })).Body.Records.Select(r => r.Body).OfType<FormatGen.Xen.Libxc.HvmContext>().Single().Data.ToArray();

    /// <summary>The contexts of the X86_PV_VCPU_BASIC records of a PV sample, by vcpu.</summary>
    public static byte[][] PvContextsOf(SampleOptions o)
        => Libxc.Read(Image(o with { Guest = GuestKind.Pv })).Body.Records.Select(r => r.Body).OfType<X86PvVcpuBasic>()
            .OrderBy(b => b.Vcpu.VcpuId).Select(b => b.Vcpu.Context.ToArray()).ToArray();

    public static readonly SampleOptions Small = new() { MemoryBytes = 1 << 20, PagesPerRecord = 64, Vcpus = 2 };

    // ------------------------------------------------------------ HVM blobs, octet by octet

    /// <summary>A descriptor and its body; <paramref name="length"/> overrides the body's length in the descriptor.</summary>
    public static byte[] Record(ushort type, ushort instance, byte[] body, uint? length = null)
    {
        var r = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(r, type);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(2), instance);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), length ?? (uint)body.Length);
        body.CopyTo(r, 8);
        return r;
    }

    public static byte[] Record(SaveType type, ushort instance, byte[] body) => Record((ushort)type, instance, body);

    public static byte[] Blob(params byte[][] records) => records.SelectMany(r => r).ToArray();

    public static byte[] HeaderBody()
    {
        var b = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 0x54381286);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), 2_400_000);
        return b;
    }

    public static byte[] HeaderRecord() => Record(SaveType.Header, 0, HeaderBody());

    public static byte[] EndRecord() => Record(SaveType.End, 0, Array.Empty<byte>());

    /// <summary>The records of a blob: offset, typecode, instance and body length of each (up to the end of the octets).</summary>
    public static List<(int Offset, ushort Type, ushort Instance, int Length)> Records(byte[] blob)
    {
        var list = new List<(int, ushort, ushort, int)>();
        for (int at = 0; at + 8 <= blob.Length;)
        {
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at));
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at + 4));
            list.Add((at, type, BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at + 2)), length));
            if (type == 0 || length < 0) break;
            at += 8 + length;
        }
        return list;
    }

    /// <summary>
    /// A CPU body of <paramref name="length"/> octets (1016, 1024 or 1032) whose
    /// registers are distinct numbers; the 1016-octet form has no msr_tsc_aux.
    /// </summary>
    public static byte[] CpuBody(int length, ulong seed = 1)
    {
        var b = new byte[length];
        for (int at = 512; at + 8 <= 1016; at += 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), seed * 0x1000 + (ulong)at);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Cpu.Layout.Dr6Offset), 0xffff0ff0);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Cpu.Layout.Dr7Offset), 0x400);
        int tail = length == 1016 ? 1000 : 1008; // tsc, pending_event, error_code
        if (length != 1016) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Cpu.Layout.MsrTscAuxOffset), 3);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(tail), 0x123456789a);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(tail + 8), 0x80000b0e); // a #PF pending, with its error code
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(tail + 12), 2);
        if (length >= 1028) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(1024), 1);
        return b;
    }

    // ------------------------------------------------------------ generators

    private static Gen<byte[]> Bytes(int min, int max) =>
        from n in Gen.Choose(min, max)
        from b in Gen.ArrayOf(Gen.Choose(0, 255).Select(x => (byte)x), n)
        select b;

    private static byte[] With(byte[] b, Action<byte[]> change) { change(b); return b; }

    private static void Clear(byte[] b, int at, int n) => b.AsSpan(at, Math.Min(n, Math.Max(0, b.Length - at))).Clear();

    /// <summary>
    /// A body of any known type at a length the grammar and Xen accept (every
    /// form of the bodies that grew), random but for the octets a rule fixes;
    /// or an unknown typecode's octets.
    /// </summary>
    public static Gen<(ushort Type, byte[] Body)> BodyGen()
    {
        Gen<(ushort, byte[])> Of(SaveType t, Gen<byte[]> body) => body.Select(b => ((ushort)t, b));
        Gen<byte[]> Sized(params int[] lengths) => Gen.Elements(lengths).SelectMany(n => Bytes(n, n));
        return Gen.OneOf(
            Of(SaveType.Cpu, Sized(1016, 1024, 1028, 1032).Select(b => With(b, x =>
            {
                Clear(x, Cpu.Layout.Dr6Offset + 4, 4);
                Clear(x, Cpu.Layout.Dr7Offset + 4, 4);
                if (x.Length != 1016) Clear(x, Cpu.Layout.MsrTscAuxOffset + 4, 4);
                if (x.Length >= 1028) { byte fpuInitialised = (byte)(x[1024] & 1); Clear(x, 1024, 8); x[1024] = fpuInitialised; }
            }))),
            Of(SaveType.Pic, Sized(8)),
            Of(SaveType.Ioapic, Sized(400)),
            Of(SaveType.Lapic, Sized(16, 20, 24, 28, 32)),
            Of(SaveType.LapicRegs, Sized(1024)),
            Of(SaveType.PciIrq, Sized(16)),
            Of(SaveType.IsaIrq, Sized(8)),
            Of(SaveType.PciLink, Sized(8).Select(b => With(b, x => Clear(x, 4, 4)))),
            Of(SaveType.Pit, Sized(56).Select(b => With(b, x => Clear(x, 52, 4)))),
            Of(SaveType.Rtc, Sized(16, 24)),
            Of(SaveType.Hpet, Sized(1048)),
            Of(SaveType.Pmtimer, Sized(8)),
            Of(SaveType.Mtrr, Sized(240)),
            Of(SaveType.ViridianDomain, Sized(16, 24, 32)),
            Of(SaveType.CpuXsave, Gen.Choose(0, 4).SelectMany(k => Bytes(600 + 64 * k, 600 + 64 * k)).Select(b => With(b, x => x[CpuXsave.Layout.XcompBvOffset + 7] &= 0x7f))),
            Of(SaveType.ViridianVcpu, Sized(8, 9, 16, 24, 152, 184, 216)),
            Of(SaveType.VmceVcpu, Sized(8, 16, 24, 32)),
            Of(SaveType.TscAdjust, Sized(8)),
            Of(SaveType.CpuMsr, Gen.Choose(1, 4).SelectMany(n => Bytes(8 + 16 * n, 8 + 16 * n).Select(b => With(b, x =>
            {
                BinaryPrimitives.WriteUInt32LittleEndian(x, (uint)n);
                for (int i = 0; i < n; i++) Clear(x, 8 + 16 * i + Msr.Layout.ReservedOffset, 4);
            })))),
            from t in Gen.Choose(21, 0xffff) from b in Bytes(0, 40) select ((ushort)t, b));
    }

    /// <summary>A valid blob: the HEADER, up to 8 records of any kind (the unknown ones break a rule), END.</summary>
    public static Gen<byte[]> BlobGen(bool knownOnly) =>
        from n in Gen.Choose(0, 8)
        from records in Gen.ArrayOf(BodyGen().Where(r => !knownOnly || r.Type <= 20), n)
        from instances in Gen.ArrayOf(Gen.Choose(0, 3), n)
        select Blob(new[] { HeaderRecord() }.Concat(records.Select((r, i) => Record(r.Type, (ushort)instances[i], r.Body))).Append(EndRecord()).ToArray());

    /// <summary>
    /// Descriptors built octet by octet: typecodes of any kind, lengths near
    /// those of the known bodies or anything, bodies mostly zero; a HEADER first
    /// (mostly), END last (mostly).
    /// </summary>
    public static Gen<byte[]> StructuredGen()
    {
        var sparse = Gen.Frequency((3, Gen.Constant((byte)0)), (2, Gen.Choose(0, 255).Select(x => (byte)x)));
        var record =
            from type in Gen.Frequency((8, Gen.Choose(1, 20)), (1, Gen.Choose(21, 40)), (1, Gen.Constant(0)))
            from length in Gen.Frequency(
                (3, Gen.Elements(0, 8, 16, 24, 32, 56, 240, 400, 600, 1016, 1024, 1032, 1048)),
                (1, Gen.Choose(0, 64)))
            from body in Gen.ArrayOf(sparse, length)
            from instance in Gen.Choose(0, 2)
            from lie in Gen.Frequency((12, Gen.Constant(0)), (1, Gen.Choose(-8, 8)))
            select Record((ushort)type, (ushort)instance, body, (uint)Math.Max(0, length + lie));
        return
            from header in Gen.Frequency((6, Gen.Constant(HeaderRecord())), (1, record))
            from n in Gen.Choose(0, 5)
            from records in Gen.ArrayOf(record, n)
            from end in Gen.Frequency((8, Gen.Constant(EndRecord())), (1, Gen.Constant(Array.Empty<byte>())))
            select Blob(new[] { header }.Concat(records).Append(end).ToArray());
    }

    // ------------------------------------------------------------ PV contexts

    /// <summary>A 32-bit guest's context (2800 octets), its registers distinct numbers.</summary>
    public static VcpuGuestContext32 Context32(uint seed = 1)
    {
        var traps = Enumerable.Range(0, 256).Select(i => i < 20 ? new TrapInfo32 { Vector = (byte)i, Flags = (byte)(i is 3 or 4 ? 3 : 0), Cs = 0xe019, Address = 0xc1000000u + 0x10u * (uint)i } : new TrapInfo32()).ToArray();
        var ctrl = new uint[8];
        ctrl[0] = 0x8005003b;
        ctrl[3] = (0x1234u << 12) | (0x1234u >> 20);
        ctrl[4] = 0x6f0;
        var gdt = new uint[16];
        gdt[0] = 0x77 + seed;
        return new VcpuGuestContext32
        {
            FpuCtxt = new byte[512],
            Flags = 0x25,
            UserRegs = new CpuUserRegs32
            {
                Ebx = seed, Ecx = seed + 1, Edx = seed + 2, Esi = seed + 3, Edi = seed + 4, Ebp = 0xc15f3e00 + seed, Eax = seed + 6,
                Eip = 0xc10a2b40 + seed, Cs = 0xe019, Eflags = 0x246, Esp = 0xc15f3dc0 + seed, Ss = 0xe021, Es = 0x7b, Ds = 0x7b, Fs = 0xd8, Gs = 0xe0,
            },
            TrapCtxt = traps,
            GdtFrames = gdt,
            GdtEnts = 32,
            KernelSs = 0xe021,
            KernelSp = 0xc15f4000 + seed,
            Ctrlreg = ctrl,
            Debugreg = new uint[8],
            EventCallbackCs = 0xe019,
            EventCallbackEip = 0xc1001000,
            FailsafeCallbackCs = 0xe019,
            FailsafeCallbackEip = 0xc1001040,
            VmAssist = 0xd,
        };
    }

    /// <summary>Random contexts of either width (with their width), the GDT entry count within the rule.</summary>
    public static Gen<(byte Width, byte[] Context)> PvContextGen() =>
        from width in Gen.Elements((byte)4, (byte)8)
        from b in Bytes(width == 8 ? 5168 : 2800, width == 8 ? 5168 : 2800)
        select (width, With(b, x =>
        {
            int gdtEnts = width == 8 ? 4960 : 2704; // after the IDT, the LDT and the 16 GDT frames
            Clear(x, gdtEnts, width);
            x[gdtEnts] = b[0];
        }));
}
