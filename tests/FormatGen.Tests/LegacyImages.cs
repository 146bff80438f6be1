using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FormatGen.Tests.LegacyImages;

namespace FormatGen.Tests;

/// <summary>One page batch: its pfn entries (type in bits 31-28, pfn in 27-0) as the saving toolstack wrote them.</summary>
internal sealed record LegacyBatch(uint[] Entries, uint[]? HighHalves = null);

/// <summary>One qemu physmap entry of libxl's toolstack chunk.</summary>
internal sealed record LegacyPhysmap(ulong PhysOffset, ulong StartAddr, ulong Size, string Name);

/// <summary>
/// A domain as a legacy image describes it, independent of the saving
/// toolstack's width: <see cref="LegacyImage.Render"/> writes it for a 32- or
/// a 64-bit toolstack, with the legacy grammar's generated writers (compiled
/// into the tests only: the product never writes legacy images).
/// </summary>
internal sealed record LegacyDomain
{
    public bool Pv { get; init; } = true;
    /// <summary>PV: the guest's width in octets, 4 or 8 (its vcpu context is 0xaf0 or 0x1430 octets).</summary>
    public int GuestWidth { get; init; } = 8;
    public ulong P2mSize { get; init; } = 0x100;
    public bool Extended { get; init; } = true;
    /// <summary>The "xcnt" block's size (16 of header plus the area); 0: no xsave.</summary>
    public uint XsaveSize { get; init; }
    public IReadOnlyList<LegacyBatch> Batches { get; init; } = Array.Empty<LegacyBatch>();
    public int MaxVcpuId { get; init; } = 1;
    public IReadOnlyList<int> OnlineVcpus { get; init; } = new[] { 0, 1 };
    public (uint Mode, ulong Nsec, uint Khz, uint Incarnation)? Tsc { get; init; } = (0, 123456789, 2_400_000, 1);
    /// <summary>HVM parameter chunks in order, by chunk type.</summary>
    public IReadOnlyList<(ChunkType Chunk, ulong Value)> HvmParams { get; init; } = Array.Empty<(ChunkType, ulong)>();
    public IReadOnlyList<LegacyPhysmap> Physmap { get; init; } = Array.Empty<LegacyPhysmap>();
    public bool VerifyModeChunk { get; init; }
    public bool LastCheckpointChunk { get; init; }
    public ulong IoreqPfn { get; init; } = 0xfeff0;
    public ulong BufioreqPfn { get; init; } = 0xfeff1;
    public ulong StorePfn { get; init; } = 0xfeff2;
    public int HvmContextLength { get; init; } = 1024;
    public int DeviceModelLength { get; init; } = 512;
    /// <summary>An xl header in front, with this configuration.</summary>
    public string? XlConfig { get; init; }
    /// <summary>"Unmapped" pfns of the PV tail (dropped by a conversion).</summary>
    public int UnmappedPfns { get; init; } = 3;
    public byte Seed { get; init; } = 1;

    public int VcpuContextSize => GuestWidth == 4 ? 0xaf0 : 0x1430;

    /// <summary>The p2m frame list's length: one frame for each 4096 / width entries.</summary>
    public int P2mFrames => (int)((P2mSize - 1) / (ulong)(4096 / GuestWidth) + 1);

    /// <summary>The contents of the page an entry carries (batch b, entry e): distinct for each.</summary>
    public byte[] Page(int batch, int entry)
    {
        var page = new byte[4096];
        uint x = (uint)(batch * 7919 + entry * 104729 + Seed * 31 + 1);
        for (int i = 0; i < page.Length; i += 4)
        {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            BitConverter.TryWriteBytes(page.AsSpan(i), x);
        }
        return page;
    }

    public byte[] Blob(int length, int salt)
    {
        var b = new byte[length];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(i * 13 + salt * 29 + Seed);
        return b;
    }

    public byte[] VcpuContext(int id) => Blob(VcpuContextSize, 100 + id);
    public byte[] ExtendedContext(int id) => Blob(128, 200 + id);
    public byte[] Xsave(int id) => Blob((int)XsaveSize - 16, 300 + id);
    public byte[] SharedInfo => Blob(4096, 400);
    public byte[] HvmContext => Blob(HvmContextLength, 500);
    public byte[] DeviceModel => Blob(DeviceModelLength, 600);
    /// <summary>The pfn of the i-th frame holding the guest's p2m table (the first pages; a PV image sends them as normal pages).</summary>
    public ulong P2mFrame(int i) => (ulong)i;

    /// <summary>A PV domain's batches end with one that sends its p2m frames as normal pages, as a restore needs.</summary>
    public static IReadOnlyList<LegacyBatch> WithFrames(IEnumerable<LegacyBatch> batches, int frames)
        => batches.Append(new LegacyBatch(Enumerable.Range(0, frames).Select(i => (uint)i).ToArray())).ToList();

    public static bool HasData(uint entry) => (entry >> 28) < 0xd;
}

/// <summary>Writes a <see cref="LegacyDomain"/> as a legacy image, as a Xen 4.5 toolstack of either width saved it.</summary>
internal static class LegacyImage
{
    public static byte[] Render(LegacyDomain d, int bits, Action<LegacyWriter>? edit = null)
    {
        var w = new LegacyWriter(d, bits);
        edit?.Invoke(w);
        return w.Render();
    }

    /// <summary>Domains as FsCheck draws them: PV (both guest widths) and HVM, a few batches, some vcpus, optional chunks.</summary>
    public static Gen<LegacyDomain> Domains()
        => from pv in Gen.Elements(true, false)
           from width in Gen.Elements(4, 8)
           from pages in Gen.Choose(2, 64) // a PV P2M of one pfn is one Xen's restore cannot take
           from batchCount in Gen.Choose(0, 4)
           from sizes in Gen.ArrayOf(Gen.Choose(1, 20), batchCount)
           from types in Gen.ArrayOf(Gen.Elements(0u, 0u, 0u, 1u, 2u, 9u, 0xdu, 0xeu, 0xfu), sizes.Sum())
           from padding in Gen.ArrayOf(Gen.Elements(false, false, false, true), sizes.Sum())
           from maxVcpu in Gen.Choose(0, 130)
           from online in Gen.ArrayOf(Gen.Elements(true, false), maxVcpu + 1)
           from extended in Gen.Elements(true, false)
           from xsave in Gen.Elements(0u, 16u + 64u, 16u + 832u)
           from tsc in Gen.Elements(true, false)
           from paramCount in Gen.Choose(0, 4)
           from paramKinds in Gen.ArrayOf(Gen.Elements(ChunkType.HvmIdentPt, ChunkType.HvmVm86Tss, ChunkType.HvmConsolePfn, ChunkType.HvmAcpiIoportsLocation,
               ChunkType.HvmViridian, ChunkType.HvmGenerationIdAddr, ChunkType.HvmPagingRingPfn, ChunkType.HvmMonitorRingPfn, ChunkType.HvmSharingRingPfn,
               ChunkType.HvmIoreqServerPfn, ChunkType.HvmNrIoreqServerPages), paramCount)
           from physmapCount in Gen.Choose(0, 3)
           from xl in Gen.Elements(false, false, true)
           from seed in Gen.Choose(0, 255)
           select Build(pv, width, pages, sizes, types, padding, maxVcpu, online, extended, xsave, tsc, paramKinds, physmapCount, xl, (byte)seed);

    private static LegacyDomain Build(bool pv, int width, int pages, int[] sizes, uint[] types, bool[] padding, int maxVcpu, bool[] online,
        bool extended, uint xsave, bool tsc, ChunkType[] paramKinds, int physmapCount, bool xl, byte seed)
    {
        var batches = new List<LegacyBatch>();
        int k = 0;
        uint next = 0;
        foreach (var drawn in sizes)
        {
            // Distinct pfns in a batch (a pfn may come back in a later one); some entries are padding.
            int size = Math.Min(drawn, pages);
            var entries = new uint[size];
            for (int i = 0; i < size; i++, k++)
                entries[i] = padding[k] ? 0xf0000000 : (types[k] << 28) | (next++ % (uint)pages);
            k += drawn - size;
            if (entries.All(e => e == 0xf0000000)) entries[0] = next++ % (uint)pages;
            batches.Add(new LegacyBatch(entries));
        }
        if (pv) batches.Add(new LegacyBatch(Enumerable.Range(0, (pages - 1) / (4096 / width) + 1).Select(i => (uint)i).ToArray()));
        // vcpu 0 is always up (a restore needs its state).
        var vcpus = Enumerable.Range(0, online.Length).Where(i => i == 0 || online[i]).ToArray();
        return new LegacyDomain
        {
            Pv = pv,
            GuestWidth = width,
            P2mSize = (ulong)pages,
            Extended = extended,
            XsaveSize = pv ? xsave : 0,
            Batches = batches,
            MaxVcpuId = maxVcpu,
            OnlineVcpus = vcpus,
            Tsc = tsc ? (1u, 1_000_000_007UL * seed, 2_000_000u + seed, seed) : null,
            HvmParams = pv ? Array.Empty<(ChunkType, ulong)>() : paramKinds.Select((c, i) => (c, (ulong)(0xfc000 + i * 0x1000 + seed))).ToArray(),
            Physmap = pv ? Array.Empty<LegacyPhysmap>() : Enumerable.Range(0, physmapCount).Select(i => new LegacyPhysmap(0xf0000000UL + (ulong)i * 0x1000000, 0xf0000000UL + (ulong)i * 0x1000000, 0x800000, i == 0 ? "vga.vram" : "rom" + i)).ToArray(),
            XlConfig = xl ? "name = \"legacy-" + seed + "\"\nmemory = " + pages * 4 + "\n" : null,
            HvmContextLength = 64 + seed * 4,
            DeviceModelLength = 16 + seed,
            UnmappedPfns = seed % 4,
            Seed = seed,
        };
    }
}

/// <summary>
/// Writes one legacy image with the generated stream writer, chunk by chunk;
/// tests change what it writes (<see cref="Chunks"/>, <see cref="Tail"/>) to
/// build malformed images.
/// </summary>
internal sealed class LegacyWriter
{
    private readonly LegacyDomain _d;
    private readonly int _bits;
    private byte Word => (byte)(_bits / 8);

    public LegacyWriter(LegacyDomain d, int bits)
    {
        if (bits is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(bits));
        _d = d;
        _bits = bits;
        Extended = d.Pv ? DefaultExtended() : null;
        Chunks = DefaultChunks();
    }

    /// <summary>The extended info's blocks (PV), in order; a test may reorder, drop or add.</summary>
    public List<ExtendedBlock>? Extended { get; }

    /// <summary>Set: the extended info's total_length as written instead of the blocks' sum.</summary>
    public uint? TotalLength { get; set; }

    /// <summary>The chunks with the pages of each batch, END included; a null chunk stands for octets written as they are (a malformed chunk).</summary>
    public List<(Chunk? Chunk, byte[] Pages)> Chunks { get; }

    /// <summary>Octets written instead of p2m_size and the PV header, when set (a malformed header).</summary>
    public byte[]? Prefix { get; set; }

    /// <summary>Octets written after the chunks instead of the domain's tail, when set.</summary>
    public byte[]? Tail { get; set; }

    /// <summary>Set: the p2m_size as written (a PV image's frame count follows it).</summary>
    public ulong? P2mSize { get; set; }

    public Ulong U(ulong v) => new() { Low = (uint)v, High = _bits == 64 ? (uint)(v >> 32) : null };

    private List<ExtendedBlock> DefaultExtended()
    {
        var blocks = new List<ExtendedBlock> { Block("vcpu", _d.Blob(_d.VcpuContextSize, 7)) };
        if (_d.Extended) blocks.Add(Block("extv", Array.Empty<byte>()));
        if (_d.XsaveSize != 0) blocks.Add(Block("xcnt", new byte[4], _d.XsaveSize));
        return blocks;
    }

    public static ExtendedBlock Block(string id, byte[] data, uint? xsave = null)
        => new() { Id = id, Size = (uint)data.Length + (xsave is null ? 0u : 4u), XsaveRecordSize = xsave, Data = data };

    /// <summary>A metadata chunk (or END); those the grammar gives no body carry an empty one of no case.</summary>
    public static Chunk Marker(ChunkType type, IChunkBody? body = null)
        => new() { Marker = type, Body = body ?? ((long)type < 0 ? new ChunkBodyUnknown { Key = type } : null) };

    private List<(Chunk?, byte[])> DefaultChunks()
    {
        var list = new List<(Chunk?, byte[])>();
        if (_d.VerifyModeChunk) list.Add((Marker(ChunkType.EnableVerifyMode), Array.Empty<byte>()));
        list.Add((VcpuInfo(_d.MaxVcpuId, _d.OnlineVcpus), Array.Empty<byte>()));
        if (_d.Tsc is { } t) list.Add((Marker(ChunkType.TscInfo, new TscInfo { Mode = t.Mode, Nsec = t.Nsec, Khz = t.Khz, Incarnation = t.Incarnation }), Array.Empty<byte>()));
        for (int b = 0; b < _d.Batches.Count; b++) list.Add(Batch(b));
        foreach (var (chunk, value) in _d.HvmParams) list.Add((Marker(chunk, new HvmParam { Padding = 0, Value = value }), Array.Empty<byte>()));
        if (_d.Physmap.Count > 0) list.Add((Marker(ChunkType.Toolstack, new SizedData { Data = Toolstack(_d.Physmap) }), Array.Empty<byte>()));
        if (_d.LastCheckpointChunk) list.Add((Marker(ChunkType.LastCheckpoint), Array.Empty<byte>()));
        list.Add((Marker(ChunkType.End), Array.Empty<byte>()));
        return list;
    }

    public static Chunk VcpuInfo(int maxId, IEnumerable<int> online)
    {
        var words = new ulong[maxId < 0 ? 0 : maxId / 64 + 1];
        foreach (var id in online) words[id / 64] |= 1UL << (id % 64);
        return Marker(ChunkType.VcpuInfo, new VcpuInfo { MaxVcpuId = maxId, Online = words });
    }

    public (Chunk, byte[]) Batch(int b)
    {
        var batch = _d.Batches[b];
        var pages = new MemoryStream();
        var entries = new PfnEntry[batch.Entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new PfnEntry { Raw = batch.Entries[i], High = _bits == 64 ? batch.HighHalves?[i] ?? 0 : null };
            if (LegacyDomain.HasData(batch.Entries[i])) pages.Write(_d.Page(b, i));
        }
        return (new Chunk { Marker = (ChunkType)entries.Length, Batch = new PageBatch { Pfns = entries } }, pages.ToArray());
    }

    /// <summary>libxl's toolstack chunk, version 1; a 64-bit libxl leaked 4 octets after each name.</summary>
    public byte[] Toolstack(IEnumerable<LegacyPhysmap> entries)
    {
        var list = entries.Select(e => new PhysmapEntry
        {
            PhysOffset = e.PhysOffset, StartAddr = e.StartAddr, Size = e.Size,
            NameLength = (uint)Encoding.UTF8.GetByteCount(e.Name) + 1,
            Name = Encoding.UTF8.GetBytes(e.Name),
            Padding = _bits == 64 ? new byte[] { 0xde, 0xad, 0xbe, 0xef } : Array.Empty<byte>(),
        }).ToArray();
        return new LibxlToolstack { Entries = list }.ToArray((byte)(_bits == 64 ? 4 : 0));
    }

    public byte[] Render()
    {
        var ms = new MemoryStream();
        PvHeader? pv = null;
        if (_d.Pv)
        {
            uint total = TotalLength ?? (uint)Extended!.Sum(b => 8 + (long)b.Size);
            pv = new PvHeader
            {
                ExtendedInfo = new ExtendedInfo { MarkerHigh = _bits == 64 ? 0xffffffff : null, TotalLength = total, Blocks = Extended! },
                P2mFrames = Enumerable.Range(0, _d.P2mFrames).Select(i => U(_d.P2mFrame(i))).ToArray(),
            };
        }
        var prefix = new MemoryStream();
        var writer = new LegacyStreamWriter(prefix, U(P2mSize ?? _d.P2mSize), pv, Word, _d.Pv);
        ms.Write(Prefix ?? prefix.ToArray());
        prefix.SetLength(0);
        foreach (var (chunk, pages) in Chunks)
        {
            if (chunk is not null) writer.Write(chunk);
            ms.Write(prefix.ToArray());
            prefix.SetLength(0);
            ms.Write(pages);
        }
        ms.Write(Tail ?? DefaultTail());
        var image = ms.ToArray();
        return _d.XlConfig is { } config ? Containers.Xl(image, config, json: false, v2: false) : image;
    }

    public byte[] DefaultTail()
    {
        var ms = new MemoryStream();
        if (_d.Pv)
        {
            ms.Write(new PvTailHead { Count = (uint)_d.UnmappedPfns, Pfns = _d.Blob(_d.UnmappedPfns * Word, 9) }.ToArray(Word));
            foreach (var id in _d.OnlineVcpus) ms.Write(Vcpu(id));
            ms.Write(new SharedInfo { Page = _d.SharedInfo }.ToArray());
        }
        else
        {
            ms.Write(new HvmTail { IoreqPfn = _d.IoreqPfn, BufioreqPfn = _d.BufioreqPfn, StorePfn = _d.StorePfn, Context = _d.HvmContext }.ToArray());
            ms.Write(DeviceModel("DeviceModelRecord0002", _d.DeviceModel));
        }
        return ms.ToArray();
    }

    public byte[] Vcpu(int id)
        => new PvVcpu
        {
            Context = _d.VcpuContext(id),
            Extended = _d.Extended ? _d.ExtendedContext(id) : null,
            XsaveMask = _d.XsaveSize != 0 ? 7 : null,
            XsaveLength = _d.XsaveSize != 0 ? _d.XsaveSize - 16 : null,
            Xsave = _d.XsaveSize != 0 ? _d.Xsave(id) : null,
        }.ToArray((uint)_d.VcpuContextSize, _d.Extended, _d.XsaveSize);

    /// <summary>A header as a test spells it out, octet by octet (for what the writers refuse): p2m_size, the marker, total_length, the blocks, the frames.</summary>
    public byte[] RawPvPrefix(ulong p2mSize, uint totalLength, IEnumerable<(string Id, byte[] Data)> blocks, int frames)
    {
        var ms = new MemoryStream();
        void Word(ulong v) => ms.Write(_bits == 64 ? BitConverter.GetBytes(v) : BitConverter.GetBytes((uint)v));
        Word(p2mSize);
        Word(ulong.MaxValue);
        ms.Write(BitConverter.GetBytes(totalLength));
        foreach (var (id, data) in blocks)
        {
            ms.Write(Encoding.ASCII.GetBytes(id));
            ms.Write(BitConverter.GetBytes((uint)data.Length));
            ms.Write(data);
        }
        for (int i = 0; i < frames; i++) Word(_d.P2mFrame(i));
        return ms.ToArray();
    }

    public static byte[] DeviceModel(string signature, byte[] data)
        => new DeviceModel { Signature = signature, Length = (uint)data.Length, Data = data }.ToArray();
}
