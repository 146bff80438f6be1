using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using XcRecord = FormatGen.Xen.Libxc.Record;

namespace FormatGen.Tests;

/// <summary>
/// xenstream extract: the pages written are checked one by one against what
/// the stream sent, read independently (the reader's models, the last contents
/// of each pfn winning), and the ELF file against its own program headers and readelf.
/// </summary>
public class ExtractTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenstream-extract").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Sample(SampleOptions o)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, o);
        return ms.ToArray();
    }

    /// <summary>What the stream says memory holds: each pfn's last contents (to checkpoint N), and the pfns sent without.</summary>
    private static (Dictionary<ulong, byte[]> Pages, HashSet<ulong> Without, int PageSize, int Rounds) Expected(byte[] image, int? checkpoint = null)
    {
        var pages = new Dictionary<ulong, byte[]>();
        var without = new HashSet<ulong>();
        int pageSize = 0;
        using var r = new XenReader(image);
        while (r.MoveNext(build: true))
        {
            if (r.Kind == XenItemKind.LibxcHeader) pageSize = 1 << r.Libxc!.DomainHeader.PageShift;
            if (r.LibxcRecord?.Body is PageData pd)
            {
                int k = 0;
                foreach (var e in pd.Pfns)
                {
                    if (!e.HasData) { without.Add(e.Pfn); continue; }
                    pages[e.Pfn] = pd.Data.Slice(k++ * pageSize, pageSize).ToArray();
                }
            }
            if (checkpoint is int n && r.CompleteRounds == n) break;
        }
        return (pages, without, pageSize, r.CompleteRounds);
    }

    private string Extract(byte[] image, GuestMemoryFormat format, int? checkpoint, out ExtractReport report, string name = "out")
    {
        var path = Path.Combine(_dir, name + (format == GuestMemoryFormat.Elf ? ".elf" : ".raw"));
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
            report = GuestMemory.Extract(new MemoryStream(image, writable: false), fs.SafeFileHandle, new ExtractOptions { Format = format, Checkpoint = checkpoint });
        return path;
    }

    private static void SamePages(Dictionary<ulong, byte[]> expected, HashSet<ulong> without, int pageSize, Func<ulong, byte[]?> page, ulong highest)
    {
        foreach (var (pfn, contents) in expected)
        {
            var got = page(pfn);
            Assert.True(got is not null, $"pfn {pfn:x} missing");
            Assert.True(contents.AsSpan().SequenceEqual(got), $"pfn {pfn:x} differs");
        }
        // Pfns sent without contents, and a sample of those never sent, are holes.
        foreach (var pfn in without.Where(p => !expected.ContainsKey(p)))
            Assert.True(page(pfn) is null || page(pfn)!.All(b => b == 0), $"pfn {pfn:x} sent without contents is not a hole");
    }

    // The raw image's page of a pfn (zeros past its end read as a hole).
    private static byte[]? RawPage(string path, ulong pfn, int pageSize)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read);
        long at = (long)pfn * pageSize;
        if (at >= fs.Length) return null;
        var b = new byte[pageSize];
        RandomAccess.Read(fs.SafeFileHandle, b, at);
        return b;
    }

    public static TheoryData<string> Images => new() { "pv", "hvm", "pv-xl-one-page-records", "hvm-libxl-checkpointed", "pv-big-endian" };

    private static byte[] ImageOf(string name) => name switch
    {
        "pv" => Sample(new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 4 << 20, PagesPerRecord = 64 }),
        "hvm" => Sample(new SampleOptions { Guest = GuestKind.Hvm, MemoryBytes = 4 << 20, PagesPerRecord = 100 }),
        "pv-xl-one-page-records" => Sample(new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 1 << 20, PagesPerRecord = 1, Wrap = SampleWrap.Xl }),
        "hvm-libxl-checkpointed" => Sample(new SampleOptions { Guest = GuestKind.Hvm, MemoryBytes = 2 << 20, PagesPerRecord = 7, Wrap = SampleWrap.Libxl, Checkpoints = 3 }),
        _ => Sample(new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 2 << 20, PagesPerRecord = 16, BigEndian = true }),
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Raw_holds_every_page_at_its_pfn(string name)
    {
        var image = ImageOf(name);
        var (pages, without, pageSize, _) = Expected(image);
        var path = Extract(image, GuestMemoryFormat.Raw, null, out var report);
        Assert.Equal(pages.Count, report.Pages);
        Assert.Equal(pageSize, report.PageSize);
        ulong highest = pages.Keys.Concat(without).Max();
        Assert.Equal(highest, report.HighestPfn);
        Assert.Equal((long)(highest + 1) * pageSize, new FileInfo(path).Length);
        SamePages(pages, without, pageSize, pfn => RawPage(path, pfn, pageSize), highest);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Elf_maps_every_page_at_its_physical_address(string name)
    {
        var image = ImageOf(name);
        var (pages, without, pageSize, _) = Expected(image);
        var path = Extract(image, GuestMemoryFormat.Elf, null, out var report);
        var elf = ElfFile.Read(path);
        Assert.Equal(pages.Count, report.Pages);
        Assert.Equal(pages.Count * (long)pageSize, elf.Loads.Sum(l => l.Size));
        // Runs are maximal: no two loads are adjacent in memory and in the file.
        foreach (var (a, b) in elf.Loads.OrderBy(l => l.Address).Zip(elf.Loads.OrderBy(l => l.Address).Skip(1)))
            Assert.False(a.Address + (ulong)a.Size == b.Address && a.Offset + a.Size == b.Offset);
        SamePages(pages, without, pageSize, pfn => elf.Page(pfn * (ulong)pageSize, pageSize), pages.Keys.Max());
        var facts = elf.Notes.Single(n => n.Name == "xenstream").Desc;
        Assert.Equal((uint)pages.Count, BinaryPrimitives.ReadUInt32LittleEndian(facts.AsSpan(40)));
        var xen = elf.Notes.Single(n => n.Name == "Xen" && n.Type == 0x2000001).Desc;
        Assert.Equal(name.StartsWith("hvm", StringComparison.Ordinal) ? 0xF00FEBEEUL : 0xF00FEBEDUL, BinaryPrimitives.ReadUInt64LittleEndian(xen));
        Assert.Equal((ulong)pageSize, BinaryPrimitives.ReadUInt64LittleEndian(xen.AsSpan(24)));
        Readelf(path);
    }

    [Fact]
    public void A_checkpoint_holds_what_was_sent_up_to_its_end_and_later_contents_win()
    {
        var image = ImageOf("hvm-libxl-checkpointed");
        var (final, _, pageSize, rounds) = Expected(image);
        Assert.Equal(3, rounds);
        var (first, without1, _, _) = Expected(image, 1);
        // The sample sends some pages again in later rounds with other contents: what the test can tell apart.
        Assert.Contains(final, kv => first.TryGetValue(kv.Key, out var old) && !old.AsSpan().SequenceEqual(kv.Value));
        foreach (int? checkpoint in new int?[] { 1, 2, 3, null })
        {
            var (pages, without, _, _) = Expected(image, checkpoint);
            var path = Extract(image, GuestMemoryFormat.Raw, checkpoint, out var report, "cp" + checkpoint);
            Assert.Equal(checkpoint ?? 0, report.Checkpoint);
            SamePages(pages, without, pageSize, pfn => RawPage(path, pfn, pageSize), pages.Keys.Max());
            var elf = ElfFile.Read(Extract(image, GuestMemoryFormat.Elf, checkpoint, out _, "cp" + checkpoint));
            SamePages(pages, without, pageSize, pfn => elf.Page(pfn * (ulong)pageSize, pageSize), pages.Keys.Max());
        }
        var e = Assert.Throws<FgException>(() => Extract(image, GuestMemoryFormat.Raw, 4, out _));
        Assert.Equal("checkpoint-not-in-stream", e.Rule);
        Assert.Contains("holds 3 complete checkpoint(s)", e.Message);
        e = Assert.Throws<FgException>(() => Extract(ImageOf("pv"), GuestMemoryFormat.Raw, 1, out _));
        Assert.Contains("not checkpointed", e.Message);
    }

    /// <summary>
    /// A hand-made HVM stream whose pfns are sparse (up to 2^40), with pages sent
    /// without contents and a page sent twice: holes stay holes (no disk), and
    /// memory stays small although the highest pfn is far out.
    /// </summary>
    [Fact]
    public void Sparse_pfns_far_out_cost_neither_disk_nor_memory()
    {
        const int ps = 4096;
        byte[] Page(byte v) => Enumerable.Repeat(v, ps).ToArray();
        var ms = new MemoryStream();
        var w = new LibxcStreamWriter(ms, new ImageHeader { Version = 3 }, new DomainHeader { Type = DomainType.X86Hvm, PageShift = 12, XenMajor = 4, XenMinor = 19 });
        void Send(params (ulong Pfn, PageType Type, byte? Fill)[] pages)
        {
            var data = pages.Where(p => p.Fill is not null).SelectMany(p => Page(p.Fill!.Value)).ToArray();
            w.Write(new XcRecord { Body = new PageData { Pfns = pages.Select(p => new PfnEntry { Pfn = p.Pfn, Type = p.Type }).ToArray(), Data = data } });
        }
        const ulong far = (1UL << 40) - 2;
        Send((0, PageType.Notab, 1), (1, PageType.Notab, 2), (2, PageType.Notab, 3), (9, PageType.Xtab, null));
        Send((far, PageType.Notab, 4), (far + 1, PageType.Notab, 5), (3, PageType.Broken, null), (5, PageType.Xalloc, null));
        Send((1, PageType.Notab, 6), (2, PageType.Xtab, null));   // pfn 1 again: its new contents win; pfn 2 keeps its page
        w.Write(new XcRecord { Body = new End() });
        var image = ms.ToArray();

        var elf = ElfFile.Read(Extract(image, GuestMemoryFormat.Elf, null, out var report));
        Assert.Equal(5, report.Pages);
        Assert.Equal(6, report.PagesSent);
        Assert.Equal(3, report.PagesWithoutData);
        Assert.Equal(far + 1, report.HighestPfn);
        Assert.Equal(new[] { (0UL, 3UL * ps), (far * ps, 2UL * ps) }, elf.Loads.OrderBy(l => l.Address).Select(l => (l.Address, (ulong)l.Size)));
        Assert.Equal(6, elf.Page(1UL * ps, ps)![0]);
        Assert.Equal(3, elf.Page(2UL * ps, ps)![0]);
        Assert.Equal(5, elf.Page((far + 1) * ps, ps)![0]);
        Assert.Null(elf.Page(9UL * ps, ps));
        // The ELF file places regions compactly: far less than the 4 PiB a pfn-indexed file would span, and sparse.
        Assert.True(new FileInfo(elf.Path).Length < 3L << 30);
        Assert.True(Allocated(elf.Path) < 1 << 20);
        Readelf(elf.Path);

        // A raw image of the same: pfn 2^40 lies at 4 PiB, more than most file systems hold: a clear error, or a sparse file.
        try
        {
            var raw = Extract(image, GuestMemoryFormat.Raw, null, out _);
            Assert.Equal((long)(far + 2) * ps, new FileInfo(raw).Length);
            Assert.True(Allocated(raw) < 1 << 20);
        }
        catch (IOException e)
        {
            Assert.Contains("cannot hold pfn 0xfffffffffe", e.Message);
            Assert.Contains("--format elf", e.Message);
        }
    }

    [Fact]
    public void More_program_headers_than_e_phnum_holds_go_in_section_header_0()
    {
        // 70000 scattered pfns, each its own run: the headers only (the pages are holes).
        var set = new PfnSet();
        var random = new Random(7);
        while (set.Count < 70_000) set.Add((ulong)random.NextInt64(1L << 40));
        var path = Path.Combine(_dir, "many.elf");
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
        {
            var elf = new ElfCore(fs.SafeFileHandle, 12);
            foreach (var pfn in set.Pfns()) elf.OffsetOf(pfn);
            elf.Finish(set, [], new byte[56], hvm: true);
        }
        var h = File.ReadAllBytes(path).AsSpan(0, 64).ToArray();
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(56)));
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(40));
        var sh = new byte[64];
        using (var fs = File.OpenRead(path)) RandomAccess.Read(fs.SafeFileHandle, sh, shoff);
        Assert.Equal(70_001u, BinaryPrimitives.ReadUInt32LittleEndian(sh.AsSpan(44)));
        var output = Readelf(path);
        if (output is not null) Assert.Contains("Number of program headers:         65535 (70001)", output);
    }

    [Fact]
    public void A_pfn_set_holds_what_was_added_in_runs_whatever_its_shape()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<ulong[]>(), ArbMap.Default.ArbFor<bool>(), (raw, dense) =>
        {
            // Small values crowd one chunk (a list turning into a bitmap), large ones scatter.
            var pfns = raw.SelectMany(v => dense ? Enumerable.Range(0, 5000).Select(i => (v % 100_000) + (ulong)i) : new[] { v >> 12 }).ToList();
            var set = new PfnSet();
            var expected = new SortedSet<ulong>();
            foreach (var p in pfns) Assert.Equal(expected.Add(p), set.Add(p));
            foreach (var p in pfns.Where((_, i) => i % 3 == 0)) Assert.Equal(expected.Remove(p), set.Remove(p));
            Assert.Equal(expected.Count, set.Count);
            Assert.Equal(expected, set.Pfns());
            var runs = set.Runs().ToList();
            Assert.Equal(expected.Count, runs.Sum(r => (long)r.Count));
            foreach (var (a, b) in runs.Zip(runs.Skip(1))) Assert.True(a.First + a.Count < b.First);
            Assert.All(expected.Take(50), p => Assert.True(set.Contains(p)));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_legacy_image_is_extracted_through_the_converter_in_one_pass()
    {
        foreach (var c in LegacyConverterTests.VectorCases().Where(c => c.Format == LegacyOutputFormat.Libxc && !c.SkipQemu).Take(4))
        {
            var legacy = LegacyImage.Render(c.Domain, c.Bits);
            var converted = new MemoryStream();
            LegacyConverter.Convert(legacy, converted);
            var (pages, without, pageSize, _) = Expected(converted.ToArray());
            var path = Path.Combine(_dir, c.Name + ".raw");
            ExtractReport report;
            // From a stream that cannot seek, as from a pipe: the head read to detect it is replayed.
            using (var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
                report = GuestMemory.Extract(Streams.Trickle(legacy, 7), fs.SafeFileHandle, new ExtractOptions());
            Assert.Equal(ImageKind.Legacy, report.Input);
            Assert.Equal(pages.Count, report.Pages);
            SamePages(pages, without, pageSize, pfn => RawPage(path, pfn, pageSize), pages.Keys.Max());
        }
    }

    [Fact]
    public void The_history_of_a_pfn_names_every_record_that_sent_it_and_its_last_contents()
    {
        var image = ImageOf("hvm-libxl-checkpointed");
        var (first, _, _, _) = Expected(image, 1);
        var (final, _, _, _) = Expected(image);
        // A pfn sent again in a later round with other contents.
        var pfn = final.Keys.First(p => !first[p].AsSpan().SequenceEqual(final[p]));
        var history = GuestMemory.History(new XenReader(image), pfn);
        Assert.True(history.Sends.Count >= 2);
        Assert.Equal(1, history.Sends[0].Round);
        Assert.True(history.Sends[^1].Round > 1);
        Assert.All(history.Sends, s => Assert.Equal(PageType.Notab, s.Type));
        Assert.Equal(final[pfn], history.LastContents);
        // Cross-check with the records themselves: each send's offset holds a PAGE_DATA record naming the pfn.
        var offsets = new List<long>();
        using (var r = new XenReader(image))
            while (r.MoveNext(build: true))
                if (r.LibxcRecord?.Body is PageData pd && pd.Pfns.Any(e => e.Pfn == pfn)) offsets.Add(r.Offset);
        Assert.Equal(offsets, history.Sends.Select(s => s.Offset));

        var never = GuestMemory.History(new XenReader(image), 1UL << 40);
        Assert.Empty(never.Sends);
        Assert.Null(never.LastContents);

        // The CLI says the same, in JSON.
        var path = Path.Combine(_dir, "cp.img");
        File.WriteAllBytes(path, image);
        var sw = new MemoryStream();
        Assert.Equal(0, FormatGen.Cli.DumpCommand.Pfn(path, false, pfn, json: true, null, 128 << 20, sw));
        using var doc = System.Text.Json.JsonDocument.Parse(sw.ToArray());
        Assert.Equal(history.Sends.Count, doc.RootElement.GetProperty("sends").GetArrayLength());
        Assert.Equal(Convert.ToHexStringLower(final[pfn]), doc.RootElement.GetProperty("lastContents").GetString());
        var text = new MemoryStream();
        Assert.Equal(0, FormatGen.Cli.DumpCommand.Pfn(path, false, pfn, json: false, null, 128 << 20, text));
        var lines = System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n');
        Assert.Contains("round 2", lines[2] + lines[3]);
        Assert.StartsWith("00000000  " + string.Join(" ", final[pfn].Take(8).Select(b => b.ToString("x2"))), lines.First(l => l.StartsWith("00000000", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(GuestKind.Pv)]
    [InlineData(GuestKind.Hvm)]
    public void The_elf_file_carries_each_vcpu_s_registers_as_the_sample_set_them(GuestKind guest)
    {
        var o = new SampleOptions { Guest = guest, MemoryBytes = 4 << 20, Vcpus = 3, PagesPerRecord = 128 };
        var image = Sample(o);
        var path = Extract(image, GuestMemoryFormat.Elf, null, out var report);
        Assert.Equal(3, report.Vcpus.Count);
        var elf = ElfFile.Read(path);
        var prstatus = elf.Notes.Where(n => n.Name == "CORE" && n.Type == 1).ToList();
        var fpregs = elf.Notes.Where(n => n.Name == "CORE" && n.Type == 2).ToList();
        Assert.Equal(3, prstatus.Count);
        Assert.Equal(3, fpregs.Count);
        for (int v = 0; v < 3; v++)
        {
            var expected = LibxcSample.VcpuRegisters(o, v);
            var got = report.Vcpus[v];
            Assert.Equal(expected with { Fpu = default }, got with { Fpu = default });
            Assert.True(expected.Fpu.Span.SequenceEqual(got.Fpu.Span));
            // The note: pr_pid, then user_regs_struct from offset 112.
            var note = prstatus[v].Desc;
            Assert.Equal(336, note.Length);
            Assert.Equal(v + 1, BinaryPrimitives.ReadInt32LittleEndian(note.AsSpan(32)));
            ulong Reg(int i) => BinaryPrimitives.ReadUInt64LittleEndian(note.AsSpan(112 + 8 * i));
            Assert.Equal((expected.R15, expected.Rbp, expected.Rax, expected.Rdi, expected.Rip, (ulong)expected.Cs, expected.Rflags, expected.Rsp, (ulong)expected.Ss, expected.FsBase, expected.GsBase),
                (Reg(0), Reg(4), Reg(10), Reg(14), Reg(16), Reg(17), Reg(18), Reg(19), Reg(20), Reg(21), Reg(22)));
            Assert.Equal(expected.Fpu.ToArray(), fpregs[v].Desc);
        }
        var xen = elf.Notes.Single(n => n.Name == "Xen").Desc;
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(xen.AsSpan(8)));

        // gdb, where installed, shows the vCPUs as threads, with the sample's registers.
        var gdb = Gdb(path, "info threads", "info registers rip rsp rax rbx", "thread 3", "info registers rip");
        if (gdb is null) return;
        Assert.Contains("LWP 3", gdb);
        var first = LibxcSample.VcpuRegisters(o, 0);
        var third = LibxcSample.VcpuRegisters(o, 2);
        Assert.Matches($@"rip\s+0x{first.Rip:x}\b", gdb);
        Assert.Matches($@"rsp\s+0x{first.Rsp:x}\b", gdb);
        Assert.Matches($@"rbx\s+0x{first.Rbx:x}\b", gdb);
        Assert.Matches($@"rip\s+0x{third.Rip:x}\b", gdb);
    }

    [Fact]
    public void A_vcpu_blob_that_does_not_decode_is_a_warning_and_the_rest_is_extracted()
    {
        var o = new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 1 << 20, Vcpus = 2, PagesPerRecord = 64 };
        var image = Sample(o);
        // Cut vcpu 1's X86_PV_VCPU_BASIC context to 100 octets: no vcpu_guest_context of any width.
        // Its record, rebuilt by hand (the grammar's writer refuses a context of no width's size).
        long at = -1, length = 0;
        using (var r = new LibxcReader(image))
        {
            r.ReadHeaders();
            while (r.MoveNext(build: true))
                if (r.Current!.Body is X86PvVcpuBasic { Vcpu.VcpuId: 1 }) { at = r.Offset; length = r.Length; }
        }
        Assert.True(at > 0);
        var cut = new byte[8 + 8 + 100 + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(cut, (uint)RecordType.X86PvVcpuBasic);
        BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(4), 8 + 100);
        image.AsSpan((int)at + 8, 8 + 100).CopyTo(cut.AsSpan(8));
        var ms = new MemoryStream();
        ms.Write(image.AsSpan(0, (int)at));
        ms.Write(cut);
        ms.Write(image.AsSpan((int)(at + length)));
        var path = Extract(ms.ToArray(), GuestMemoryFormat.Elf, null, out var report);
        Assert.Single(report.Vcpus);
        var warning = Assert.Single(report.Violations, v => v.Rule == "vcpu-state-undecodable");
        Assert.Equal(FgSeverity.Warning, warning.Severity);
        Assert.Contains("vcpu 1", warning.ToString());
        Assert.Equal(256, report.Pages);
        Assert.Single(ElfFile.Read(path).Notes, n => n.Name == "CORE" && n.Type == 1);
    }

    [Theory]
    [InlineData(GuestKind.Hvm)]
    [InlineData(GuestKind.Pv)]
    public void Verify_warns_of_vcpu_state_that_does_not_decode_from_a_file_and_from_a_pipe(GuestKind guest)
    {
        var o = new SampleOptions { Guest = guest, MemoryBytes = 1 << 20, Vcpus = 2, PagesPerRecord = 64 };
        var image = Sample(o);
        string Warnings(Stream input)
        {
            var found = new List<string>();
            using var r = new XenReader(input);
            while (r.MoveNext(build: false))
                foreach (var v in r.Violations) found.Add(v.Severity + " " + v.Rule + " " + v.RecordName);
            return string.Join("; ", found);
        }
        Assert.Equal("", Warnings(new MemoryStream(image)));
        // Damage the blob: the HVM context's HEADER magic, or a PV context's GDT entry count past what the hypervisor takes.
        long at = -1;
        using (var r = new LibxcReader(image))
        {
            r.ReadHeaders();
            while (r.MoveNext(build: false))
                if (at < 0 && r.Type is RecordType.HvmContext or RecordType.X86PvVcpuBasic) at = r.Offset + XcRecord.Layout.BodyOffset;
        }
        if (guest == GuestKind.Hvm) image[at + 8] ^= 0xFF;
        // gdt_ents of a 64-bit vcpu_guest_context: after fpu_ctxt (512), flags (8), user_regs (200), trap_ctxt (256 x 16), ldt_base, ldt_ents and gdt_frames (16 x 8).
        else BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan((int)at + 8 + 4960), 9000);
        var expected = "Warning vcpu-state-undecodable " + (guest == GuestKind.Hvm ? "HVM_CONTEXT" : "X86_PV_VCPU_BASIC");
        Assert.Equal(expected, Warnings(new MemoryStream(image)));
        // A pipe, where a check passes over octets no rule reads: the vCPU state is still read.
        Assert.Equal(expected, Warnings(Streams.Trickle(image, 4096)));
        // extract says the same, and takes the registers it can.
        Extract(image, GuestMemoryFormat.Raw, null, out var report);
        Assert.Contains(report.Violations, v => v.Rule == "vcpu-state-undecodable");
    }

    /// <summary>gdb -batch on a core file, where gdb is installed.</summary>
    private static string? Gdb(string core, params string[] commands)
    {
        var args = new List<string> { "-batch", "-nx", "-c", core };
        foreach (var c in commands) { args.Add("-ex"); args.Add(c); }
        return Tool("gdb", args) is var (_, output, error) ? output + error : null;
    }

    /// <summary>Runs a tool of the machine: its exit code, output and error, or null when it is not installed.</summary>
    private static (int Exit, string Output, string Error)? Tool(string name, IEnumerable<string> args)
    {
        ProcessStartInfo psi = new(name, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { return null; }
        using (p)
        {
            var error = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output, error.Result);
        }
    }

    [Fact]
    public void A_broken_input_is_an_error_naming_where()
    {
        var image = ImageOf("pv");
        var cut = image.AsSpan(0, image.Length - 5000).ToArray();
        var e = Assert.Throws<FgException>(() => Extract(cut, GuestMemoryFormat.Raw, null, out _));
        Assert.Equal("truncated", e.Rule);
        Assert.True(e.RecordIndex > 0);
        var notXen = Assert.Throws<FgException>(() => Extract(new byte[100], GuestMemoryFormat.Elf, null, out _));
        Assert.Equal("not-a-xen-image", notXen.Rule);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "stat")]
    private static extern int Stat(byte[] path, byte[] buf);

    /// <summary>Octets the file takes on disk (stat's st_blocks, 512-octet units, at offset 64 on x86-64).</summary>
    internal static long Allocated(string path)
    {
        var buf = new byte[256];
        Assert.Equal(0, Stat(System.Text.Encoding.UTF8.GetBytes(path + "\0"), buf));
        return BitConverter.ToInt64(buf, 64) * 512;
    }

    /// <summary>readelf, where installed, reads the file without a complaint.</summary>
    internal static string? Readelf(string path)
    {
        if (Tool("readelf", ["-h", "-l", "-n", "-W", path]) is not var (exit, output, error)) return null;
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("CORE (Core file)", output);
        Assert.Contains("Advanced Micro Devices X86-64", output);
        return output;
    }

    /// <summary>An ELF64 core file read back from its own headers.</summary>
    internal sealed record ElfFile(string Path, List<(ulong Address, long Offset, long Size)> Loads, List<(string Name, uint Type, byte[] Desc)> Notes)
    {
        public static ElfFile Read(string path)
        {
            using var fs = File.OpenRead(path);
            var h = new byte[64];
            fs.ReadExactly(h);
            Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1 }, h[..7]);
            Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(16)));
            Assert.Equal(62, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(18)));
            long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(32));
            int phnum = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(56));
            var loads = new List<(ulong, long, long)>();
            var notes = new List<(string, uint, byte[])>();
            var ph = new byte[56];
            for (int i = 0; i < phnum; i++)
            {
                RandomAccess.Read(fs.SafeFileHandle, ph, phoff + 56L * i);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
                long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(8));
                ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(16));
                ulong paddr = BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(24));
                long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(32));
                Assert.Equal(size, (long)BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(40)));
                if (type == 1)
                {
                    Assert.Equal(vaddr, paddr);
                    Assert.True(offset + size <= fs.Length);
                    loads.Add((paddr, offset, size));
                }
                else if (type == 4)
                {
                    var all = new byte[size];
                    RandomAccess.Read(fs.SafeFileHandle, all, offset);
                    for (int at = 0; at < all.Length;)
                    {
                        int namesz = (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at));
                        int descsz = (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at + 4));
                        uint ntype = BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at + 8));
                        var name = System.Text.Encoding.ASCII.GetString(all, at + 12, namesz - 1);
                        int descAt = at + 12 + (namesz + 3) / 4 * 4;
                        notes.Add((name, ntype, all.AsSpan(descAt, descsz).ToArray()));
                        at = descAt + (descsz + 3) / 4 * 4;
                    }
                }
            }
            return new ElfFile(path, loads, notes);
        }

        /// <summary>The page at a physical address, or null when no load holds it.</summary>
        public byte[]? Page(ulong address, int pageSize)
        {
            foreach (var (a, offset, size) in Loads)
                if (address >= a && address < a + (ulong)size)
                {
                    var b = new byte[pageSize];
                    using var fs = File.OpenRead(Path);
                    RandomAccess.Read(fs.SafeFileHandle, b, offset + (long)(address - a));
                    return b;
                }
            return null;
        }
    }
}
