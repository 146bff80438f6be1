using System;
using System.Buffers.Binary;
using System.IO;
using FormatGen.Cli;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// `dump` and `dump --json` of small sample images, octet for octet against
/// Baselines/dump (FORMATGEN_UPDATE_BASELINES=1 rewrites them): every layer,
/// checkpoints, both byte orders and versions, PAGE_DATA summaries with runs,
/// gaps and page types, and a damaged image (violations, then an error).
/// </summary>
public class DumpGoldenTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenstream-dump").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("pv-xl-cp2", "pv", 3, false, "xl", 2, 7)]
    [InlineData("hvm-libxl-cp2", "hvm", 3, false, "libxl", 2, 64)]
    [InlineData("hvm-v2-be", "hvm", 2, true, null, 0, 5)]
    [InlineData("pv-v3-be", "pv", 3, true, null, 0, 1024)]
    [InlineData("pv-damaged", "pv", 3, false, null, 0, 16)]
    public void Dump_output_matches_its_baseline(string name, string guest, int version, bool bigEndian, string? wrap, int checkpoints, int pagesPerRecord)
    {
        var path = Path.Combine(_dir, name + ".img");
        Assert.Equal(0, SampleCommand.Run(guest, 1L << 20, version, bigEndian, path, wrap, checkpoints, pagesPerRecord));
        if (name == "pv-damaged") File.WriteAllBytes(path, Damage(File.ReadAllBytes(path)));
        foreach (var json in new[] { false, true })
        {
            var ms = new MemoryStream();
            int exit = DumpCommand.Run(path, false, json, 128L << 20, ms);
            var actual = "exit " + exit + "\n" + System.Text.Encoding.UTF8.GetString(ms.ToArray());
            var golden = Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Baselines", "dump", name + (json ? ".json" : ".txt"));
            if (Environment.GetEnvironmentVariable("FORMATGEN_UPDATE_BASELINES") == "1")
            {
                Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
                File.WriteAllText(golden, actual);
            }
            Assert.True(File.Exists(golden), golden + " is missing: FORMATGEN_UPDATE_BASELINES=1 writes it");
            var expected = File.ReadAllText(golden);
            Assert.True(expected == actual, golden + " differs from the output (FORMATGEN_UPDATE_BASELINES=1 rewrites it):\n" + TextDiff.FirstDifference(expected, actual));
        }
    }

    /// <summary>
    /// dump allocates nothing per PAGE_DATA record (text or JSON): twice the
    /// records cost no more allocation than once (the output grows, the
    /// buffers do not).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dump_allocates_nothing_per_page_data_record(bool json)
    {
        var small = Path.Combine(_dir, "small.img");
        var large = Path.Combine(_dir, "large.img");
        Assert.Equal(0, SampleCommand.Run("pv", 4L << 20, 3, false, small, null, 0, 1));
        Assert.Equal(0, SampleCommand.Run("pv", 8L << 20, 3, false, large, null, 0, 1));
        long Allocated(string path)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(0, DumpCommand.Run(path, false, json, 128L << 20, Stream.Null));
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(small);
        Allocated(large);
        long perRecord = (Allocated(large) - Allocated(small)) / 1024;   // 1024 more one-page records
        Assert.True(perRecord < 8, perRecord + " octets allocated per PAGE_DATA record");
    }

    /// <summary>
    /// A little-endian libxc stream with: STATIC_DATA_END retyped as PAGE_DATA
    /// (a body too short for one), PAGE_DATA records with shuffled and gapped
    /// pfns and undefined page types, a record of an unknown type, and the
    /// last record cut short.
    /// </summary>
    private static byte[] Damage(byte[] image)
    {
        var offsets = Streams.RecordOffsets(image);
        uint Type(int i) => BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan((int)offsets[i]));
        int Find(uint type, int nth = 0)
        {
            for (int i = 0; i < offsets.Count; i++)
                if (Type(i) == type && nth-- == 0) return i;
            throw new InvalidOperationException("no record of type " + type);
        }
        ulong Pfn(int record, int entry) => BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan((int)offsets[record] + 16 + 8 * entry));
        void SetPfn(int record, int entry, ulong raw) => Streams.U8(image, (int)offsets[record] + 16 + 8 * entry, raw);

        Streams.U4(image, (int)offsets[Find(0x10)], 1);                          // STATIC_DATA_END as PAGE_DATA, body 0
        int a = Find(1, 1), b = Find(1, 3), c = Find(1, 5);
        for (int i = 0; i < 8; i++)                                             // reversed: every pfn a run of its own
        {
            ulong x = Pfn(a, i), y = Pfn(a, 15 - i);
            SetPfn(a, i, y);
            SetPfn(a, 15 - i, x);
        }
        SetPfn(b, 3, Pfn(b, 3) + 0x1000);                                       // a gap (and a pfn beyond the P2M)
        SetPfn(b, 4, Pfn(b, 4) | (6UL << 60));                                  // undefined page types
        SetPfn(b, 9, Pfn(b, 9) | (0xdUL << 60));                                // XALLOC: no data
        SetPfn(c, 0, Pfn(c, 0) | (0xfUL << 60));                                // BROKEN
        Streams.U4(image, (int)offsets[Find(8)], 0x4242);                       // TSC_INFO: an unknown mandatory type
        return image.AsSpan(0, image.Length - 20).ToArray();                    // END cut short
    }
}
