using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using FormatGen.Runtime;
using FormatGen.Tests.LegacyImages;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using Record = FormatGen.Xen.Libxc.Record;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using Xunit.Abstractions;

namespace FormatGen.Tests;

/// <summary>
/// Legacy images (built by the tests' own legacy writer) converted by
/// <see cref="LegacyConverter"/>: byte for byte as Xen's converter (vectors
/// recorded from tools/python/scripts/convert-legacy-stream, see
/// tests/FormatGen.Tests/Vectors/README.md), the same bytes from either
/// toolstack width, verified, nothing lost, and one error per malformation.
/// </summary>
public class LegacyConverterTests(ITestOutputHelper output)
{
    // ------------------------------------------------------------ helpers

    internal static byte[] Convert(byte[] image, LegacyOptions? options = null)
    {
        var ms = new MemoryStream();
        LegacyConverter.Convert(new MemoryStream(image), ms, options);
        return ms.ToArray();
    }

    internal static LegacyOptions Opts(LegacyOutputFormat format = LegacyOutputFormat.Libxc, bool skipQemu = false)
        => new() { Format = format, SkipQemu = skipQemu };

    private static string Sha(byte[] b) => System.Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();

    /// <summary>The converted stream as our verifier reads it: no error, and each libxc record's model.</summary>
    private static List<Record> Verified(byte[] converted, ImageKind format)
    {
        var records = new List<Record>();
        using var reader = new XenReader(new MemoryStream(converted), format);
        while (reader.MoveNext(build: true))
        {
            Assert.DoesNotContain(reader.Violations, v => v.Severity == FgSeverity.Error);
            if (reader.Kind == XenItemKind.Record && reader.Layer == XenLayer.Libxc) records.Add(reader.LibxcRecord! with { });
        }
        Assert.True(reader.Ended, "the converted stream has its END");
        return records;
    }

    // ------------------------------------------------------------ byte for byte, as Xen's converter

    /// <summary>Named cases: a domain, the toolstack width it is written for, and convert-legacy's flags.</summary>
    internal static IEnumerable<(string Name, LegacyDomain Domain, int Bits, LegacyOutputFormat Format, bool SkipQemu)> VectorCases()
    {
        var batches = new[]
        {
            new LegacyBatch(new uint[] { 0x00, 0x01, 0x10000002, 0xf0000000, 0x90000003, 0xd0000004, 0xe0000005, 0xf0000006, 0x07 }),
            new LegacyBatch(Enumerable.Range(8, 40).Select(i => (uint)i).ToArray()),
            new LegacyBatch(new uint[] { 0x01, 0x20000030 }),
        };
        var pv64 = new LegacyDomain { Pv = true, GuestWidth = 8, P2mSize = 0x40, Batches = LegacyDomain.WithFrames(batches, 1), MaxVcpuId = 3, OnlineVcpus = new[] { 0, 1, 3 }, XsaveSize = 16 + 832, Seed = 3 };
        var pv32 = pv64 with { GuestWidth = 4, Extended = false, XsaveSize = 0, MaxVcpuId = 0, OnlineVcpus = new[] { 0 }, Tsc = null, VerifyModeChunk = true, LastCheckpointChunk = true, Seed = 4 };
        var hvm = new LegacyDomain
        {
            Pv = false, P2mSize = 0x100, Batches = batches, MaxVcpuId = 65, OnlineVcpus = new[] { 0, 1, 64, 65 },
            HvmParams = new[] { (ChunkType.HvmIdentPt, 0xfeffc000UL), (ChunkType.HvmVm86Tss, 0xfeffd000UL), (ChunkType.HvmConsolePfn, 0xfefffUL), (ChunkType.HvmAcpiIoportsLocation, 1UL),
                (ChunkType.HvmViridian, 0UL), (ChunkType.HvmGenerationIdAddr, 0xfc00fUL), (ChunkType.HvmPagingRingPfn, 0xfeff3UL), (ChunkType.HvmMonitorRingPfn, 0xfeff4UL),
                (ChunkType.HvmSharingRingPfn, 0xfeff5UL), (ChunkType.HvmIoreqServerPfn, 0xfeff6UL), (ChunkType.HvmNrIoreqServerPages, 2UL) },
            Physmap = new[] { new LegacyPhysmap(0xf0000000, 0xf0000000, 0x800000, "vga.vram"), new LegacyPhysmap(0xf1000000, 0xf1000000, 0x10000, "cirrus_vga.rom") },
            HvmContextLength = 5000, DeviceModelLength = 3000, Seed = 5,
        };
        var xlHvm = hvm with { XlConfig = "name = \"old-hvm\"\nbuilder = \"hvm\"\nmemory = 1\n", Seed = 6 };
        // A physmap name that is not ASCII: copied octet for octet.
        var utf8 = hvm with { Physmap = new[] { new LegacyPhysmap(0xf0000000, 0xf0000000, 0x800000, "vgä.vram") }, Seed = 7 };
        foreach (var bits in new[] { 32, 64 })
        {
            yield return ($"pv64-w{bits}", pv64, bits, LegacyOutputFormat.Libxc, false);
            yield return ($"pv64-w{bits}-libxl", pv64, bits, LegacyOutputFormat.Libxl, false);
            yield return ($"pv32-w{bits}", pv32, bits, LegacyOutputFormat.Libxc, false);
            yield return ($"hvm-w{bits}", hvm, bits, LegacyOutputFormat.Libxc, false);
            yield return ($"hvm-w{bits}-skip-qemu", hvm, bits, LegacyOutputFormat.Libxc, true);
            yield return ($"hvm-w{bits}-libxl", hvm, bits, LegacyOutputFormat.Libxl, false);
            yield return ($"xl-hvm-w{bits}-libxl", xlHvm, bits, LegacyOutputFormat.Libxl, false);
            yield return ($"xl-hvm-w{bits}", xlHvm, bits, LegacyOutputFormat.Libxc, false);
            yield return ($"hvm-utf8-name-w{bits}-libxl", utf8, bits, LegacyOutputFormat.Libxl, false);
        }
    }

    /// <summary>SHA-256 of what Xen's convert-legacy-stream wrote for each case (tests/FormatGen.Tests/Vectors/legacy-xen-converter.txt).</summary>
    private static Dictionary<string, string> XenOutputs()
        => File.ReadAllLines(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Vectors", "legacy-xen-converter.txt"))
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Every_case_converts_to_the_bytes_Xens_converter_writes()
    {
        var expected = XenOutputs();
        var cases = VectorCases().ToList();
        Assert.Equal(cases.Select(c => c.Name).Order(), expected.Keys.Order());
        foreach (var c in cases)
        {
            var image = LegacyImage.Render(c.Domain, c.Bits);
            var ours = Convert(image, Opts(c.Format, c.SkipQemu));
            Assert.True(expected[c.Name] == Sha(ours), $"{c.Name}: our output ({ours.Length} octets, sha256 {Sha(ours)}) differs from Xen's converter's (sha256 {expected[c.Name]})");
        }
    }

    /// <summary>
    /// With FORMATGEN_LEGACY_DUMP=DIR, writes each case's image and the flags to
    /// convert it with, for tests/FormatGen.Tests/Vectors/xen-convert-legacy.sh
    /// to run Xen's converter over (and record its outputs).
    /// </summary>
    [Fact]
    public void Cases_can_be_dumped_for_Xens_converter()
    {
        var dir = Environment.GetEnvironmentVariable("FORMATGEN_LEGACY_DUMP");
        var manifest = new StringBuilder();
        foreach (var c in VectorCases())
        {
            var image = LegacyImage.Render(c.Domain, c.Bits);
            var flags = $"-w {c.Bits} -g {(c.Domain.Pv ? "pv" : "hvm")} -f {(c.Format == LegacyOutputFormat.Libxl ? "libxl" : "libxc")}"
                + (c.Domain.XlConfig is not null ? " -x" : "") + (c.SkipQemu ? " --skip-qemu" : "");
            manifest.Append(c.Name).Append(' ').Append(flags).Append('\n');
            if (dir is not null) File.WriteAllBytes(Path.Combine(dir, c.Name + ".img"), image);
        }
        if (dir is not null) File.WriteAllText(Path.Combine(dir, "manifest"), manifest.ToString());
        Assert.NotEmpty(manifest.ToString());
    }

    // ------------------------------------------------------------ properties

    [Fact]
    public void Both_toolstack_widths_convert_to_the_same_verified_stream_that_keeps_every_value()
    {
        Prop.ForAll(Arb.From(LegacyImage.Domains()), d =>
        {
            foreach (var format in new[] { LegacyOutputFormat.Libxc, LegacyOutputFormat.Libxl })
            {
                var from32 = Convert(LegacyImage.Render(d, 32), Opts(format));
                var from64 = Convert(LegacyImage.Render(d, 64), Opts(format));
                Assert.Equal(from32, from64);
                var kind = d.XlConfig is not null ? ImageKind.XlSaveFile : format == LegacyOutputFormat.Libxl ? ImageKind.Libxl : ImageKind.Libxc;
                var records = Verified(from32, kind);
                Survives(d, records);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    /// <summary>The pfn-to-page map, vcpus, TSC, HVM parameters and contexts of the domain, in the converted records.</summary>
    private static void Survives(LegacyDomain d, List<Record> records)
    {
        // Pages: each entry that is not padding, in order, its type moved to bits 63-60, its page unchanged.
        var sent = records.Select(r => r.Body).OfType<PageData>().ToList();
        var expectedBatches = d.Batches.Select((b, i) => (Index: i, Entries: b.Entries.Select((e, j) => (e, j)).Where(x => x.e != 0xf0000000).ToList())).Where(b => b.Entries.Count > 0).ToList();
        Assert.Equal(expectedBatches.Count, sent.Count);
        for (int i = 0; i < sent.Count; i++)
        {
            var (bi, entries) = expectedBatches[i];
            Assert.Equal(entries.Select(x => ((ulong)(x.e >> 28) << 60) | (x.e & 0x0fffffff)), sent[i].Pfns.Select(p => p.Raw));
            var pages = entries.Where(x => LegacyDomain.HasData(x.e)).SelectMany(x => d.Page(bi, x.j)).ToArray();
            Assert.Equal(pages, sent[i].Data.ToArray());
        }
        if (d.Tsc is { } t)
        {
            var tsc = Assert.Single(records.Select(r => r.Body).OfType<FormatGen.Xen.Libxc.TscInfo>());
            Assert.Equal((t.Mode, t.Nsec, t.Khz, t.Incarnation), (tsc.Mode, tsc.Nsec, tsc.Khz, tsc.Incarnation));
        }
        if (d.Pv)
        {
            var info = Assert.Single(records.Select(r => r.Body).OfType<X86PvInfo>());
            Assert.Equal((d.GuestWidth, d.GuestWidth == 4 ? 3 : 4), (info.GuestWidth, info.PtLevels));
            var frames = Assert.Single(records.Select(r => r.Body).OfType<X86PvP2mFrames>());
            Assert.Equal(Enumerable.Range(0, d.P2mFrames).Select(d.P2mFrame), frames.P2mPfns);
            Assert.Equal(d.P2mSize - 1, frames.P2mEndPfn);
            Assert.Equal(d.OnlineVcpus.Select(i => (uint)i), records.Select(r => r.Body).OfType<X86PvVcpuBasic>().Select(b => b.Vcpu.VcpuId));
            foreach (var b in records.Select(r => r.Body).OfType<X86PvVcpuBasic>()) Assert.Equal(d.VcpuContext((int)b.Vcpu.VcpuId), b.Vcpu.Context.ToArray());
            Assert.Equal(d.Extended ? d.OnlineVcpus.Count : 0, records.Select(r => r.Body).OfType<X86PvVcpuExtended>().Count());
            foreach (var x in records.Select(r => r.Body).OfType<X86PvVcpuXsave>()) Assert.Equal(d.Xsave((int)x.Vcpu.VcpuId), x.Vcpu.Context.ToArray());
            Assert.Equal(d.XsaveSize != 0 ? d.OnlineVcpus.Count : 0, records.Select(r => r.Body).OfType<X86PvVcpuXsave>().Count());
            Assert.Equal(d.SharedInfo, Assert.Single(records.Select(r => r.Body).OfType<FormatGen.Xen.Libxc.SharedInfo>()).Data.ToArray());
        }
        else
        {
            var indexOf = new Dictionary<ChunkType, ulong>
            {
                [ChunkType.HvmIdentPt] = 12, [ChunkType.HvmVm86Tss] = 15, [ChunkType.HvmConsolePfn] = 17, [ChunkType.HvmAcpiIoportsLocation] = 19,
                [ChunkType.HvmViridian] = 9, [ChunkType.HvmGenerationIdAddr] = 34, [ChunkType.HvmPagingRingPfn] = 27, [ChunkType.HvmMonitorRingPfn] = 28,
                [ChunkType.HvmSharingRingPfn] = 29, [ChunkType.HvmIoreqServerPfn] = 32, [ChunkType.HvmNrIoreqServerPages] = 33,
            };
            var expected = d.HvmParams.Select(p => (indexOf[p.Chunk], p.Value)).Concat(new[] { (5UL, d.IoreqPfn), (6UL, d.BufioreqPfn), (1UL, d.StorePfn) });
            Assert.Equal(expected, records.Select(r => r.Body).OfType<HvmParams>().SelectMany(p => p.Params).Select(p => (p.Index, p.Value)));
            Assert.Equal(d.HvmContext, Assert.Single(records.Select(r => r.Body).OfType<HvmContext>()).Data.ToArray());
        }
    }

    [Fact]
    public void A_libxl_output_carries_the_physmap_and_the_device_model_as_emulator_records()
    {
        var d = VectorCases().First(c => c.Name == "hvm-w64-libxl").Domain;
        var converted = Convert(LegacyImage.Render(d, 64), Opts(LegacyOutputFormat.Libxl));
        using var reader = new XenReader(new MemoryStream(converted));
        var libxl = new List<FormatGen.Xen.Libxl.Record>();
        while (reader.MoveNext())
            if (reader.Kind == XenItemKind.Record && reader.Layer == XenLayer.Libxl) libxl.Add(reader.LibxlRecord! with { });
        Assert.True(reader.LibxlHeader!.Value.Legacy);
        Assert.Equal(new[] { "LibxcContext", "EmulatorXenstoreData", "EmulatorContext", "End" }, libxl.Select(r => r.Type.ToString()));
        var xs = (FormatGen.Xen.Libxl.EmulatorXenstoreData)libxl[1].Body;
        Assert.Equal(new[]
        {
            "physmap/f0000000/start_addr", "f0000000", "physmap/f0000000/size", "800000", "physmap/f0000000/name", "vga.vram",
            "physmap/f1000000/start_addr", "f1000000", "physmap/f1000000/size", "10000", "physmap/f1000000/name", "cirrus_vga.rom",
        }, xs.Strings);
        Assert.Equal(FormatGen.Xen.Libxl.EmulatorId.Unknown, xs.Emulator.EmulatorId);
        Assert.Equal(d.DeviceModel, ((FormatGen.Xen.Libxl.EmulatorContext)libxl[2].Body).State.ToArray());
    }

    [Fact]
    public void An_xl_header_is_copied_with_the_v2_flag_set_for_a_libxl_output()
    {
        var d = VectorCases().First(c => c.Name == "xl-hvm-w64-libxl").Domain;
        var image = LegacyImage.Render(d, 64);
        var toLibxl = Convert(image, Opts(LegacyOutputFormat.Libxl));
        var toLibxc = Convert(image, Opts());
        int header = 32 + 16 + d.XlConfig!.Length + 1 + 4;
        // Byte order marker, then mandatory flags: bit 1 (a libxl stream follows) set only for libxl.
        Assert.Equal(image.AsSpan(0, 36).ToArray(), toLibxl.AsSpan(0, 36).ToArray());
        Assert.Equal(2u, BitConverter.ToUInt32(toLibxl, 36) & 2);
        Assert.Equal(image.AsSpan(0, header).ToArray(), toLibxc.AsSpan(0, header).ToArray());
        Verified(toLibxl, ImageKind.XlSaveFile);
        // The libxc output after an xl header reads too, with a warning that xl wants a libxl stream.
        using var reader = new XenReader(new MemoryStream(toLibxc));
        var rules = new List<string>();
        while (reader.MoveNext()) rules.AddRange(reader.Violations.Select(v => v.Rule));
        Assert.Contains("xl-legacy-flag-libxc", rules);
        Assert.True(reader.Ended);
    }

    [Fact]
    public void Widths_and_guest_types_are_found_in_the_image_and_a_contradicting_flag_is_refused()
    {
        foreach (var pv in new[] { true, false })
            foreach (var bits in new[] { 32, 64 })
            {
                var d = new LegacyDomain { Pv = pv, Batches = LegacyDomain.WithFrames(new[] { new LegacyBatch(new uint[] { 1, 2 }) }, 1) };
                var image = LegacyImage.Render(d, bits);
                var report = LegacyConverter.Convert(new MemoryStream(image), new MemoryStream());
                Assert.Equal((bits, pv ? GuestKind.Pv : GuestKind.Hvm), (report.ToolstackBits, report.Guest));
                var wrongBits = Assert.Throws<FgException>(() => LegacyConverter.Convert(new MemoryStream(image), new MemoryStream(), new LegacyOptions { ToolstackBits = bits == 32 ? 64 : 32, Guest = pv ? GuestKind.Pv : GuestKind.Hvm }));
                if (bits == 32 || pv) Assert.Equal("legacy-forced-contradicts", wrongBits.Rule);
                var wrongGuest = Assert.Throws<FgException>(() => LegacyConverter.Convert(new MemoryStream(image), new MemoryStream(), new LegacyOptions { Guest = pv ? GuestKind.Hvm : GuestKind.Pv }));
                Assert.Equal("legacy-forced-contradicts", wrongGuest.Rule);
                Assert.Contains(pv ? "-g pv" : "-g hvm", wrongGuest.Detail);
            }
    }

    // ------------------------------------------------------------ one error per malformation

    private static LegacyDomain SmallPv => new() { Pv = true, P2mSize = 16, Batches = LegacyDomain.WithFrames(new[] { new LegacyBatch(new uint[] { 1, 2, 3 }) }, 1), XsaveSize = 16 + 64 };
    private static LegacyDomain SmallHvm => new() { Pv = false, P2mSize = 16, Batches = new[] { new LegacyBatch(new uint[] { 1, 2, 3 }) } };

    private static FgException Refused(byte[] image, LegacyOptions? o = null)
        => Assert.Throws<FgException>(() => Convert(image, o));

    public static TheoryData<string, string> Malformations() => new()
    {
        { "unknown chunk", "legacy-chunk-type" },
        { "tmem chunk", "legacy-chunk-tmem" },
        { "compressed chunk", "legacy-chunk-unsupported" },
        { "batch over 1024", "legacy-batch-size" },
        { "duplicate pfns in a batch", "legacy-duplicate-pfn" },
        // The marker is how a PV image is told from an HVM one: -g pv over a bad one is a contradiction, said at the marker.
        { "bad extended-info marker", "legacy-forced-contradicts" },
        { "extended info overshooting", "legacy-extended-info-length" },
        { "unknown extended block", "legacy-extended-block" },
        { "unknown vcpu size", "legacy-vcpu-size" },
        { "no vcpu block", "legacy-extended-info-vcpu" },
        { "vcpu map beyond 4095", "legacy-vcpu-max-id" },
        { "xsave size disagreeing", "legacy-xsave-size" },
        { "HVM parameter in a PV image", "legacy-hvm-param-in-pv" },
        { "toolstack version", "legacy-toolstack-version" },
        { "old device model record", "legacy-device-model-unsupported" },
        { "PV p2m_size of 0", "legacy-p2m-size" },
        // Xen's converter copies a TSC mode the hypervisor refuses; the libxc grammar refuses it before it is written.
        { "TSC mode 5", "legacy-output-invalid" },
        { "vcpus beyond 4096 over several VCPU_INFO chunks", "legacy-vcpu-info-repeated" },
        { "unknown device model signature", "legacy-device-model-signature" },
        // Xen's converter writes this one, and Xen's restore refuses what it wrote: the verifier stops it here.
        { "PV p2m_size of 1", "legacy-output-invalid" },
    };

    private static (byte[] Image, LegacyOptions? Options) Malformed(string what)
    {
        var pv = SmallPv;
        var hvm = SmallHvm;
        byte[] Pv(Action<LegacyWriter> edit) => LegacyImage.Render(pv, 64, edit);
        byte[] Hvm(Action<LegacyWriter> edit) => LegacyImage.Render(hvm, 64, edit);
        void Before(LegacyWriter w, Chunk c) => w.Chunks.Insert(w.Chunks.Count - 1, (c, Array.Empty<byte>()));
        void Raw(LegacyWriter w, byte[] octets) => w.Chunks.Insert(w.Chunks.Count - 1, (null, octets));
        byte[] I32(params int[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
        byte[] Vcpu = new byte[0x1430], Extv = Array.Empty<byte>(), Xcnt = BitConverter.GetBytes(pv.XsaveSize);
        byte[] Header(uint? total, params (string, byte[])[] blocks) => LegacyImage.Render(pv, 64, w => w.Prefix = w.RawPvPrefix(pv.P2mSize,
            total ?? (uint)blocks.Sum(b => 8 + b.Item2.Length), blocks, pv.P2mFrames));
        return what switch
        {
            "unknown chunk" => (Hvm(w => Raw(w, I32(-21))), null),
            "tmem chunk" => (Hvm(w => Raw(w, I32(-5, 0, 0))), null),
            "compressed chunk" => (Hvm(w => Before(w, LegacyWriter.Marker(ChunkType.CompressedData, new SizedData { Data = new byte[8] }))), null),
            "batch over 1024" => (Hvm(w => Raw(w, I32(1025).Concat(new byte[8 * 1025]).ToArray())), null),
            "duplicate pfns in a batch" => (LegacyImage.Render(hvm with { Batches = new[] { new LegacyBatch(new uint[] { 1, 2, 1 }) } }, 64), null),
            "bad extended-info marker" => (Patched(Pv(_ => { }), 8, 0xfe), new LegacyOptions { ToolstackBits = 64, Guest = GuestKind.Pv }),
            "extended info overshooting" => (Header(0x1430 + 8 + 4, ("vcpu", Vcpu), ("extv", Extv), ("xcnt", Xcnt)), null),
            "unknown extended block" => (Header(null, ("vcpu", Vcpu), ("extv", Extv), ("xcnt", Xcnt), ("bogs", new byte[4])), null),
            "unknown vcpu size" => (Header(null, ("vcpu", new byte[0x1000]), ("extv", Extv), ("xcnt", Xcnt)), null),
            "no vcpu block" => (Header(null, ("extv", Extv), ("xcnt", Xcnt)), null),
            "vcpu map beyond 4095" => (Hvm(w => w.Chunks[0] = (null, I32(-2, 4096).Concat(new byte[65 * 8]).ToArray())), null),
            "xsave size disagreeing" => (Pv(w => w.Tail = TailWithXsaveLength(w, pv, 10)), null),
            "HVM parameter in a PV image" => (Pv(w => Before(w, LegacyWriter.Marker(ChunkType.HvmIdentPt, new FormatGen.Tests.LegacyImages.HvmParam { Value = 1 }))), null),
            "toolstack version" => (Hvm(w => Before(w, LegacyWriter.Marker(ChunkType.Toolstack, new SizedData { Data = new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 } }))), new LegacyOptions { Format = LegacyOutputFormat.Libxl }),
            "old device model record" => (Hvm(w => w.Tail = HvmTailWith(w, LegacyWriter.DeviceModel("RemusDeviceModelState", new byte[8]))), null),
            "TSC mode 5" => (Hvm(w => Before(w, LegacyWriter.Marker(ChunkType.TscInfo, new FormatGen.Tests.LegacyImages.TscInfo { Mode = 5, Khz = 1 }))), null),
            "vcpus beyond 4096 over several VCPU_INFO chunks" => (Hvm(w =>
            {
                var all = I32(-2, 4095).Concat(Enumerable.Repeat(ulong.MaxValue, 64).SelectMany(BitConverter.GetBytes)).ToArray();
                Raw(w, all);
                Raw(w, all);
            }), null),
            "unknown device model signature" => (Hvm(w => w.Tail = HvmTailWith(w, "DeviceModelRecord0003"u8.ToArray().Concat(I32(8)).Concat(new byte[8]).ToArray())), null),
            "PV p2m_size of 1" => (LegacyImage.Render(pv with { P2mSize = 1 }, 64), null),
            "PV p2m_size of 0" => (LegacyImage.Render(pv, 64, w => w.Prefix = w.RawPvPrefix(0, 0x1430 + 8, new[] { ("vcpu", Vcpu) }, 0)), new LegacyOptions { ToolstackBits = 64, Guest = GuestKind.Pv }),
            _ => throw new ArgumentException(what),
        };
    }

    /// <summary>The PV tail with vcpu 0's xsave length as given (the area as long as the "xcnt" block says).</summary>
    private static byte[] TailWithXsaveLength(LegacyWriter w, LegacyDomain d, ulong length)
    {
        var full = w.DefaultTail();
        var head = new PvTailHead { Count = (uint)d.UnmappedPfns, Pfns = d.Blob(d.UnmappedPfns * 8, 9) }.ToArray(8);
        var vcpu0 = w.Vcpu(0);
        var patched = (byte[])full.Clone();
        // context, extended context, mask (8), then the length.
        int at = head.Length + d.VcpuContextSize + (d.Extended ? 128 : 0) + 8;
        BitConverter.TryWriteBytes(patched.AsSpan(at), length);
        return patched;
    }

    private static byte[] HvmTailWith(LegacyWriter w, byte[] deviceModel)
    {
        var full = w.DefaultTail();
        var dm = LegacyWriter.DeviceModel("DeviceModelRecord0002", SmallHvm.DeviceModel);
        return full.Take(full.Length - dm.Length).Concat(deviceModel).ToArray();
    }

    private static byte[] Patched(byte[] b, int at, byte value)
    {
        var c = (byte[])b.Clone();
        c[at] = value;
        return c;
    }

    [Theory]
    [MemberData(nameof(Malformations))]
    public void Each_malformation_is_one_error_with_its_offset(string what, string rule)
    {
        var (image, options) = Malformed(what);
        var e = Refused(image, options);
        output.WriteLine(what + ": " + e.Format());
        Assert.Equal(rule, e.Rule);
        Assert.InRange(e.Offset, 0, image.Length);
    }

    [Fact]
    public void Truncation_anywhere_is_a_truncated_error_inside_the_image()
    {
        var image = LegacyImage.Render(SmallPv with { P2mSize = 32, Batches = LegacyDomain.WithFrames(new[] { new LegacyBatch(Enumerable.Range(0, 20).Select(i => (uint)i).ToArray()) }, 1) }, 32);
        var options = new LegacyOptions { ToolstackBits = 32, Guest = GuestKind.Pv };
        foreach (var cut in new[] { 2, 6, 9, 30, 60, 5000, 6000, 20000, 40000, 80000, image.Length - 4096 - 10, image.Length - 1 })
        {
            var e = Refused(image.AsSpan(0, cut).ToArray(), options);
            Assert.True(e.Rule == "truncated", $"cut at {cut}: {e.Format()}");
            Assert.InRange(e.Offset, 0, cut);
        }
    }

    [Fact]
    public void An_empty_batch_of_padding_is_left_out_and_trailing_data_is_reported()
    {
        var d = SmallHvm with { Batches = new[] { new LegacyBatch(new uint[] { 1 }), new LegacyBatch(new uint[] { 0xf0000000, 0xf0000000 }) } };
        var image = LegacyImage.Render(d, 64).Concat(new byte[100]).ToArray();
        var ms = new MemoryStream();
        var report = LegacyConverter.Convert(new MemoryStream(image), ms, Opts(LegacyOutputFormat.Libxl));
        Assert.Equal((2L, 1L, true), (report.Batches, report.EmptyBatches, report.TrailingData));
        Assert.Single(Verified(ms.ToArray(), ImageKind.Libxl), r => r.Body is PageData);
    }
}
