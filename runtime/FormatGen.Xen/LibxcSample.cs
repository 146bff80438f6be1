using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Threading;
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

    /// <summary>Pages per PAGE_DATA record, 1 to 1024 (Xen sends batches of 1024).</summary>
    public int PagesPerRecord { get; init; } = 1024;

    /// <summary>What wraps the libxc stream: nothing, a libxl stream, or an xl save file (xl header, libxl stream).</summary>
    public SampleWrap Wrap { get; init; } = SampleWrap.None;

    /// <summary>
    /// Checkpoint rounds of a checkpointed (Remus) stream; 0 for a plain one.
    /// Round 1 sends all memory, later rounds a sixteenth of it as dirty pages;
    /// each ends with libxc CHECKPOINT, the emulator records (HVM) and libxl
    /// CHECKPOINT_END. Needs a libxl or xl wrap.
    /// </summary>
    public int Checkpoints { get; init; }
}

/// <summary>The container of a sample image.</summary>
public enum SampleWrap { None, Libxl, Xl }

/// <summary>
/// Writes a realistic libxc image with the generated stream writer: the
/// records a Xen of the chosen version sends for a PV or HVM guest, in order.
/// Each vcpu's state (a PV vcpu_guest_context, the HVM context's records) is
/// written through the vCPU grammars, with the registers <see cref="VcpuRegisters"/> gives.
/// </summary>
public static partial class LibxcSample
{
    private const int PageShift = 12;
    private const int PageSize = 1 << PageShift;
    private const int Batch = 1024; // Xen's MAX_BATCH_SIZE

    /// <summary>Writes the image. Reports octets written to <paramref name="progress"/>; stops with OperationCanceledException when asked.</summary>
    public static void Write(Stream output, SampleOptions o, IProgress<long>? progress = null, CancellationToken cancel = default)
    {
        Check(o);
        var counted = new Counter(output, progress);
        XenSample.Write(counted, o, withPages: true, cancel);
        output.Flush();
        progress?.Report(counted.Written);
    }

    /// <summary>The octets <see cref="Write"/> produces for these options, without writing them.</summary>
    public static long Size(SampleOptions o)
    {
        Check(o);
        // Everything but the pages, written to nowhere; the page records by their size.
        var counted = new Counter(Stream.Null, null);
        XenSample.Write(counted, o, withPages: false, default);
        long size = counted.Written;
        foreach (var (_, count) in XenSample.Rounds(o))
        {
            long full = count / o.PagesPerRecord, rest = count % o.PagesPerRecord;
            size += full * PageRecordSize(o, o.PagesPerRecord) + (rest > 0 ? PageRecordSize(o, (int)rest) : 0);
        }
        return size;
    }

    /// <summary>Counts what passes to the output, reporting progress every 64 MiB.</summary>
    private sealed class Counter(Stream inner, IProgress<long>? progress) : Stream
    {
        private long _reported;
        public long Written { get; private set; }
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
            if (progress is not null && Written - _reported >= 64L << 20) progress.Report(_reported = Written);
        }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static long PageRecordSize(SampleOptions o, int pages)
        => new Record { Body = new PageData { Pfns = new PfnEntry[pages], Data = new byte[pages * PageSize] } }.Measure(PageShift, o.Version, !o.BigEndian);

    private static void Check(SampleOptions o)
    {
        if (o.Version is not (2 or 3)) throw new ArgumentException("version must be 2 or 3", nameof(o));
        if (o.MemoryBytes < PageSize || o.MemoryBytes % PageSize != 0)
            throw new ArgumentException("memory must be a positive multiple of 4096 octets", nameof(o));
        // Xen's restore cannot take a PV guest of one page (a P2M ending at pfn 0).
        if (o.Guest == GuestKind.Pv && o.MemoryBytes < 2 * PageSize)
            throw new ArgumentException("a PV guest needs at least 2 pages (8 KiB)", nameof(o));
        // X86_PV_P2M_FRAMES names the last pfn in 32 bits.
        if (o.Guest == GuestKind.Pv && o.MemoryBytes / PageSize > 1L << 32)
            throw new ArgumentException("a PV guest has at most 2^32 pages (16 TiB)", nameof(o));
        if (o.PagesPerRecord is < 1 or > Batch) throw new ArgumentException("pages per record must be 1 to 1024", nameof(o));
        if (o.Vcpus < 1) throw new ArgumentException("at least one vcpu", nameof(o));
        if (o.Checkpoints < 0) throw new ArgumentException("checkpoints cannot be negative", nameof(o));
        if (o.Checkpoints > 0 && o.Wrap == SampleWrap.None)
            throw new ArgumentException("a checkpointed stream is a libxl stream: wrap it in libxl or xl", nameof(o));
    }

    internal static ImageHeader ImageHeaderOf(SampleOptions o) => new() { Version = o.Version, Options = (ushort)(o.BigEndian ? 1 : 0) };

    internal static DomainHeader DomainHeaderOf(SampleOptions o)
        => new() { Type = o.Guest == GuestKind.Pv ? DomainType.X86Pv : DomainType.X86Hvm, PageShift = PageShift, XenMajor = 4, XenMinor = 19 };

    /// <summary>Pages of the guest, and where its P2M frames and page tables lie (a 64-bit PV guest).</summary>
    internal readonly record struct Memory(long Pages, bool Pv, long FirstFrame, long FirstTable, long Frames)
    {
        public static Memory Of(SampleOptions o)
        {
            long pages = o.MemoryBytes / PageSize;
            bool pv = o.Guest == GuestKind.Pv;
            // A 64-bit PV guest: its P2M (one 8-octet mfn per pfn) fills the top frames of memory;
            // page tables lie just below them.
            const long perFrame = PageSize / 8;
            long frames = pv ? (pages + perFrame - 1) / perFrame : 0;
            long firstFrame = pages - frames;
            return new Memory(pages, pv, firstFrame, Math.Max(0, firstFrame - 64), frames);
        }
    }

    /// <summary>What Xen sends before any memory: guest info, policies, STATIC_DATA_END, the P2M frames.</summary>
    internal static IEnumerable<IRecordBody> Prologue(SampleOptions o)
    {
        var m = Memory.Of(o);
        if (m.Pv) yield return new X86PvInfo { GuestWidth = 8, PtLevels = 4 };
        if (o.Version >= 3)
        {
            yield return CpuidPolicy();
            yield return new X86MsrPolicy { Entries = new[] { new MsrEntry { Idx = 0xce, Val = 0x80000000 }, new MsrEntry { Idx = 0x10a, Val = 0 } } };
            yield return new StaticDataEnd();
        }
        if (m.Pv)
        {
            var p2m = new ulong[m.Frames];
            for (long i = 0; i < m.Frames; i++) p2m[i] = (ulong)(m.FirstFrame + i);
            yield return new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = (uint)(m.Pages - 1), P2mPfns = p2m };
        }
    }

    /// <summary>
    /// PAGE_DATA records for pfns <paramref name="start"/> to start + count - 1.
    /// Their bodies share one buffer: each is valid until the next is produced.
    /// </summary>
    internal static IEnumerable<IRecordBody> Pages(SampleOptions o, long start, long count)
    {
        var m = Memory.Of(o);
        // Page contents: one batch of pseudo-random pages reused for every record, but for the P2M frames.
        int batch = o.PagesPerRecord;
        var random = new byte[batch * PageSize];
        new Random(0x58454E46).NextBytes(random);
        byte[]? framed = null;
        var pfns = new PfnEntry[batch];
        for (long first = start; first < start + count; first += batch)
        {
            int n = (int)Math.Min(batch, start + count - first);
            var entries = n == batch ? pfns : new PfnEntry[n];
            for (int i = 0; i < n; i++)
            {
                long pfn = first + i;
                var type = m.Pv && pfn >= m.FirstTable && pfn < m.FirstFrame ? (PageType)(1 + (pfn % 4)) : PageType.Notab;
                entries[i] = new PfnEntry { Type = type, Pfn = (ulong)pfn };
            }
            var data = random;
            if (first + n > m.FirstFrame && m.Pv)
            {
                framed ??= new byte[random.Length];
                random.AsSpan().CopyTo(framed);
                for (long pfn = Math.Max(first, m.FirstFrame); pfn < first + n; pfn++)
                    FillP2mFrame(framed.AsSpan((int)(pfn - first) * PageSize, PageSize), pfn - m.FirstFrame, m.Pages);
                data = framed;
            }
            yield return new PageData { Pfns = entries, Data = data.AsMemory(0, n * PageSize) };
        }
    }

    /// <summary>What Xen sends after the memory of each checkpoint (or of a plain stream): TSC, shared info and vCPUs, or HVM params and context.</summary>
    internal static IEnumerable<IRecordBody> Epilogue(SampleOptions o)
    {
        var m = Memory.Of(o);
        yield return new TscInfo { Mode = 0, Khz = 2_400_000, Nsec = 123_456_789_000, Incarnation = 1 };
        if (m.Pv)
        {
            yield return new SharedInfo { Data = Filled(PageSize, 0x5a) };
            for (uint v = 0; v < o.Vcpus; v++)
            {
                yield return new X86PvVcpuBasic { Vcpu = new VcpuContext { VcpuId = v, Context = PvVcpuContext(o, (int)v) } };
                yield return new X86PvVcpuExtended { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(128, (byte)v) } };
                yield return new X86PvVcpuXsave { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(832, (byte)v) } };
                yield return new X86PvVcpuMsrs { Vcpu = new VcpuContext { VcpuId = v, Context = Filled(32, (byte)v) } };
            }
        }
        else
        {
            yield return new HvmParams
            {
                Params = new[]
                {
                    new HvmParam { Index = 1, Value = (ulong)m.Pages - 2 },   // HVM_PARAM_STORE_PFN
                    new HvmParam { Index = 2, Value = 1 },                   // HVM_PARAM_STORE_EVTCHN
                    new HvmParam { Index = 5, Value = (ulong)m.Pages - 4 },   // HVM_PARAM_IOREQ_PFN
                    new HvmParam { Index = 6, Value = (ulong)m.Pages - 3 },   // HVM_PARAM_BUFIOREQ_PFN
                    new HvmParam { Index = 12, Value = 0xfeffc000 },          // HVM_PARAM_IDENT_PT
                },
            };
            yield return new HvmContext { Data = HvmContextBlob(o) };
        }
    }

    /// <summary>
    /// One page of a 64-bit guest's P2M, as guest memory holds it (little-endian):
    /// the mfn of each pfn the frame covers, ~0 past the end of memory.
    /// </summary>
    private static void FillP2mFrame(Span<byte> page, long frame, long pages)
    {
        const long hostBase = 0x100000; // the guest's memory starts at 4 GiB of host memory
        for (int i = 0; i < PageSize / 8; i++)
        {
            long pfn = frame * (PageSize / 8) + i;
            BinaryPrimitives.WriteUInt64LittleEndian(page.Slice(i * 8), pfn < pages ? (ulong)(hostBase + pfn) : ulong.MaxValue);
        }
    }

    private static X86CpuidPolicy CpuidPolicy()
    {
        var leaves = new List<CpuidLeaf>();
        for (uint leaf = 0; leaf < 8; leaf++)
            leaves.Add(new CpuidLeaf { Leaf = leaf, Subleaf = 0xffffffff, A = 0x0d + leaf, B = 0x756e6547, C = 0x6c65746e, D = 0x49656e69 });
        return new X86CpuidPolicy { Leaves = leaves };
    }

    internal static byte[] Filled(int n, byte seed)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(seed + i * 7);
        return b;
    }
}
