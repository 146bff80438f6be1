using System;
using System.Collections.Generic;
using System.IO;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

public enum GuestKind { Pv, Hvm }

/// <summary>What <see cref="LibxcSample.Write"/> produces.</summary>
public sealed record SampleOptions
{
    public GuestKind Guest { get; init; } = GuestKind.Pv;

    /// <summary>Guest memory in octets; a multiple of the 4096-octet page.</summary>
    public long MemoryBytes { get; init; } = 16L << 20;

    /// <summary>Stream version, 2 or 3.</summary>
    public uint Version { get; init; } = 3;

    public bool BigEndian { get; init; }

    public int Vcpus { get; init; } = 2;
}

/// <summary>
/// Writes a realistic libxc image with the generated stream writer: the
/// records a Xen of the chosen version sends for a PV or HVM guest, in order.
/// </summary>
public static class LibxcSample
{
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private const int Batch = 1024; // Xen's MAX_BATCH_SIZE

    public static void Write(Stream output, SampleOptions o)
    {
        if (o.Version is not (2 or 3)) throw new ArgumentException("version must be 2 or 3", nameof(o));
        if (o.MemoryBytes < PageSize || o.MemoryBytes % PageSize != 0)
            throw new ArgumentException("memory must be a positive multiple of 4096 octets", nameof(o));
        long pages = o.MemoryBytes / PageSize;
        var writer = new LibxcStreamWriter(output,
            new ImageHeader { Version = o.Version, Options = (ushort)(o.BigEndian ? 1 : 0) },
            new DomainHeader { Type = o.Guest == GuestKind.Pv ? DomainType.X86Pv : DomainType.X86Hvm, PageShift = PageShift, XenMajor = 4, XenMinor = 19 });

        void Emit(IRecordBody body) => writer.Write(new Record { Body = body });

        if (o.Guest == GuestKind.Pv) Emit(new X86PvInfo { GuestWidth = 8, PtLevels = 4 });
        if (o.Version >= 3)
        {
            Emit(CpuidPolicy());
            Emit(new X86MsrPolicy { Entries = new[] { new MsrEntry { Idx = 0xce, Val = 0x80000000 }, new MsrEntry { Idx = 0x10a, Val = 0 } } });
            Emit(new StaticDataEnd());
        }
        if (o.Guest == GuestKind.Pv)
        {
            const long perFrame = PageSize / 8;
            long frames = (pages + perFrame - 1) / perFrame;
            var p2m = new ulong[frames];
            for (long i = 0; i < frames; i++) p2m[i] = (ulong)(pages - frames + i);
            Emit(new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = (uint)(pages - 1), P2mPfns = p2m });
        }

        // Page contents: one batch of pseudo-random pages reused for every record.
        var data = new byte[Batch * PageSize];
        new Random(0x58454E46).NextBytes(data);
        var pfns = new PfnEntry[Batch];
        for (long first = 0; first < pages; first += Batch)
        {
            int n = (int)Math.Min(Batch, pages - first);
            var entries = n == Batch ? pfns : new PfnEntry[n];
            for (int i = 0; i < n; i++)
            {
                long pfn = first + i;
                var type = PageType.Notab;
                if (o.Guest == GuestKind.Pv && pfn >= pages - 64) type = (PageType)(1 + (pfn % 4)); // page tables near the top
                entries[i] = new PfnEntry { Type = type, Pfn = (ulong)pfn };
            }
            Emit(new PageData { Pfns = entries, Data = data.AsMemory(0, n * PageSize) });
        }

        Emit(new TscInfo { Mode = 0, Khz = 2_400_000, Nsec = 123_456_789_000, Incarnation = 1 });
        if (o.Guest == GuestKind.Pv)
        {
            Emit(new SharedInfo { Data = Filled(PageSize, 0x5a) });
            for (uint v = 0; v < o.Vcpus; v++)
            {
                Emit(new X86PvVcpuBasic { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(5168, (byte)v) } });
                Emit(new X86PvVcpuExtended { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(128, (byte)v) } });
                Emit(new X86PvVcpuXsave { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(832, (byte)v) } });
                Emit(new X86PvVcpuMsrs { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(32, (byte)v) } });
            }
        }
        else
        {
            Emit(new HvmParams
            {
                Params = new[]
                {
                    new HvmParam { Index = 1, Value = (ulong)pages - 2 },   // HVM_PARAM_STORE_PFN
                    new HvmParam { Index = 2, Value = 1 },                 // HVM_PARAM_STORE_EVTCHN
                    new HvmParam { Index = 5, Value = (ulong)pages - 4 },   // HVM_PARAM_IOREQ_PFN
                    new HvmParam { Index = 6, Value = (ulong)pages - 3 },   // HVM_PARAM_BUFIOREQ_PFN
                    new HvmParam { Index = 12, Value = 0xfeffc000 },        // HVM_PARAM_IDENT_PT
                },
            });
            Emit(new HvmContext { Data = Filled(2048 + 24 * o.Vcpus, 0x11) });
        }
        Emit(new End());
        output.Flush();
    }

    private static X86CpuidPolicy CpuidPolicy()
    {
        var leaves = new List<CpuidLeaf>();
        for (uint leaf = 0; leaf < 8; leaf++)
            leaves.Add(new CpuidLeaf { Leaf = leaf, Subleaf = 0xffffffff, A = 0x0d + leaf, B = 0x756e6547, C = 0x6c65746e, D = 0x49656e69 });
        return new X86CpuidPolicy { Leaves = leaves };
    }

    private static byte[] Filled(int n, byte seed)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(seed + i * 7);
        return b;
    }

    /// <summary>Parses 16M, 1G, 512MiB, 4096 (octets).</summary>
    public static long ParseSize(string text)
    {
        var s = text.Trim().ToUpperInvariant();
        long unit = 1;
        if (s.EndsWith("IB", StringComparison.Ordinal)) s = s[..^2];
        else if (s.EndsWith('B')) s = s[..^1];
        if (s.EndsWith('K')) { unit = 1L << 10; s = s[..^1]; }
        else if (s.EndsWith('M')) { unit = 1L << 20; s = s[..^1]; }
        else if (s.EndsWith('G')) { unit = 1L << 30; s = s[..^1]; }
        else if (s.EndsWith('T')) { unit = 1L << 40; s = s[..^1]; }
        if (!long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0)
            throw new FormatException("'" + text + "' is not a size (e.g. 512M, 1G)");
        return checked(n * unit);
    }
}
