using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Hvm;
using FormatGen.Xen.Pv;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static FormatGen.Tests.VcpuStates;

namespace FormatGen.Tests;

/// <summary>
/// The vCPU state grammars: hvm_context.ksy (the HVM_CONTEXT body) and
/// pv_vcpu.ksy (the X86_PV_VCPU_BASIC context), read and written back, their
/// older and unknown forms, damaged blobs, and the sample's registers read
/// back through them.
/// </summary>
public class VcpuStateTests
{
    private static List<FgViolation> Errors(IEnumerable<FgViolation> violations) => violations.Where(v => v.Severity == FgSeverity.Error).ToList();

    // ------------------------------------------------------------ round trips

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void The_samples_HVM_context_reads_and_writes_back_identical(int vcpus)
    {
        var blob = HvmContextOf(Small with { Vcpus = vcpus });
        var model = HvmContext.Read(blob);
        Assert.Equal(blob, model.ToArray());
        Assert.Empty(HvmContext.Validate(blob));
        Assert.IsType<Header>(model.HeaderRecord.Body);
        Assert.Equal(SaveType.End, model.Records[^1].Typecode);
        // Xen's order: each kind of state in typecode order, a per-vcpu kind once per vcpu.
        var kinds = model.Records.Select(r => r.Typecode).ToList();
        Assert.Equal(kinds.OrderBy(k => k == SaveType.End ? int.MaxValue : (int)k), kinds);
        foreach (var perVcpu in new[] { SaveType.Cpu, SaveType.Lapic, SaveType.LapicRegs, SaveType.Mtrr, SaveType.CpuXsave, SaveType.VmceVcpu, SaveType.TscAdjust, SaveType.CpuMsr })
            Assert.Equal(Enumerable.Range(0, vcpus).Select(v => (ushort)v), model.Records.Where(r => r.Typecode == perVcpu).Select(r => r.Instance));
        Assert.Equal(new ushort[] { 0, 1 }, model.Records.Where(r => r.Typecode == SaveType.Pic).Select(r => r.Instance));
        foreach (var once in new[] { SaveType.Ioapic, SaveType.Pit, SaveType.Rtc, SaveType.Hpet, SaveType.Pmtimer })
            Assert.Single(model.Records, r => r.Typecode == once);
        var msr = Assert.IsType<CpuMsr>(model.Records.First(r => r.Typecode == SaveType.CpuMsr).Body);
        Assert.Equal(1u, msr.Count);
        Assert.Equal(-18000, Assert.IsType<Rtc>(model.Records.Single(r => r.Typecode == SaveType.Rtc).Body).RtcOffset);
    }

    [Fact]
    public void The_samples_HVM_context_is_the_same_for_every_round_and_byte_order()
    {
        var plain = HvmContextOf(Small);
        Assert.Equal(plain, HvmContextOf(Small with { BigEndian = true, Version = 2 }));
    }

    [Fact]
    public void The_samples_PV_contexts_read_and_write_back_identical()
    {
        var contexts = PvContextsOf(Small with { Vcpus = 3 });
        Assert.Equal(3, contexts.Length);
        foreach (var c in contexts)
        {
            Assert.Equal(5168, c.Length);
            var model = PvVcpu.Read(c, 8);
            Assert.IsType<VcpuGuestContext64>(model.Context);
            Assert.Equal(c, model.ToArray(8));
            Assert.Empty(PvVcpu.Validate(c, 8));
        }
    }

    [Fact]
    public void A_32_bit_context_writes_2800_octets_and_reads_back_equal()
    {
        var model = new PvVcpu { Context = Context32(7) };
        var bytes = model.ToArray(4);
        Assert.Equal(2800, bytes.Length);
        var back = PvVcpu.Read(bytes, 4);
        Assert.Equal(model, back);
        var c = Assert.IsType<VcpuGuestContext32>(back.Context);
        Assert.Equal(0xc10a2b47u, c.UserRegs.Eip);
        Assert.Equal(0xe019, c.TrapCtxt[14].Cs);
        Assert.Equal(3, c.TrapCtxt[3].Dpl);
        Assert.Equal(0x1234u, c.Ctrlreg[3] >> 12);
        Assert.Equal(bytes, back.ToArray(4));
        Assert.Empty(PvVcpu.Validate(bytes, 4));
        // At its offsets: eip after the seven general registers and error_code/entry_vector.
        Assert.Equal(0xc10a2b47u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(VcpuGuestContext32.Layout.UserRegsOffset + 32)));
    }

    [Fact]
    public void Any_valid_HVM_context_reads_and_writes_back_identical()
    {
        Prop.ForAll(BlobGen(knownOnly: true).ToArbitrary(), blob =>
        {
            var errors = Errors(HvmContext.Validate(blob));
            var model = HvmContext.Read(blob);
            return errors.Count == 0 && model.ToArray().AsSpan().SequenceEqual(blob) && HvmContext.Read(model.ToArray()).Equals(model);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Fact]
    public void Any_PV_context_of_either_width_reads_and_writes_back_identical()
    {
        Prop.ForAll(PvContextGen().ToArbitrary(), c =>
        {
            var model = PvVcpu.Read(c.Context, c.Width);
            bool typed = c.Width == 8 ? model.Context is VcpuGuestContext64 : model.Context is VcpuGuestContext32;
            return typed && Errors(PvVcpu.Validate(c.Context, c.Width)).Count == 0 && model.ToArray(c.Width).AsSpan().SequenceEqual(c.Context);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Fact]
    public void A_blob_streams_one_record_at_a_time()
    {
        var blob = HvmContextOf(Small);
        using var reader = new FgStreamReader<SaveRecord>(new FgSource(blob), new HvmContextStreamGrammar());
        var records = new List<SaveRecord>();
        while (reader.MoveNext())
        {
            Assert.Empty(reader.Validation!.Violations);
            records.Add(reader.Current!);
        }
        Assert.Equal(HvmContext.Read(blob).Records, records);
        var grammar = (HvmContextStreamGrammar)reader.Grammar;
        Assert.IsType<Header>(grammar.HeaderRecord!.Body);
    }

    // ------------------------------------------------------------ older, newer and unknown records

    [Fact]
    public void Unknown_typecodes_keep_their_octets_and_the_records_after_them_read()
    {
        var blob = Blob(HeaderRecord(), Record(21, 0, new byte[] { 1, 2, 3 }), Record(SaveType.Cpu, 0, CpuBody(1032)),
            Record(0x1234, 7, Array.Empty<byte>()), Record(SaveType.TscAdjust, 0, new byte[8]), EndRecord());
        var model = HvmContext.Read(blob);
        var unknown = Assert.IsType<SaveRecordBodyUnknown>(model.Records[0].Body);
        Assert.Equal((SaveType)21, unknown.Key);
        Assert.Equal(new byte[] { 1, 2, 3 }, unknown.Bytes.ToArray());
        Assert.IsType<Cpu>(model.Records[1].Body);
        Assert.Equal((SaveType)0x1234, model.Records[2].Typecode);
        Assert.Equal((ushort)7, model.Records[2].Instance);
        Assert.IsType<TscAdjust>(model.Records[3].Body);
        Assert.Equal(blob, model.ToArray(verify: false));
        var v = Assert.Single(HvmContext.Validate(blob));
        Assert.Equal(("hvm-typecode-unknown", FgSeverity.Error, 32L, "typecode 21"), (v.Rule, v.Severity, v.Offset, v.Actual));
        Assert.EndsWith("1 more element(s) alike)", v.ToString()); // the second one, counted with the first
    }

    [Fact]
    public void The_CPU_records_of_older_Xens_read_in_their_own_layout()
    {
        // Xen 3.3 and earlier: no msr_tsc_aux, so tsc and the pending event sit 8 octets earlier.
        var old = HvmContext.Read(Blob(HeaderRecord(), Record(SaveType.Cpu, 1, CpuBody(1016)), EndRecord()));
        var cpu = Assert.IsType<Cpu>(old.Records[0].Body);
        Assert.Null(cpu.MsrTscAux);
        Assert.Null(cpu.Flags);
        Assert.Equal(0x123456789aUL, cpu.Tsc);
        Assert.True(cpu.PendingValid);
        Assert.Equal(14, cpu.PendingVector);
        Assert.Equal(EventType.HardwareException, cpu.PendingType);
        Assert.True(cpu.PendingErrorValid);
        Assert.Equal(2u, cpu.ErrorCode);
        Assert.Equal(0x1000UL + 512 + 8 * 16, cpu.Rip);
        // Xen 3.4 to 4.6: msr_tsc_aux, no flags.
        var mid = Assert.IsType<Cpu>(HvmContext.Read(Blob(HeaderRecord(), Record(SaveType.Cpu, 0, CpuBody(1024)), EndRecord())).Records[0].Body);
        Assert.Equal(3UL, mid.MsrTscAux);
        Assert.Null(mid.Flags);
        Assert.Equal(0x123456789aUL, mid.Tsc);
        var now = Assert.IsType<Cpu>(HvmContext.Read(Blob(HeaderRecord(), Record(SaveType.Cpu, 0, CpuBody(1032)), EndRecord())).Records[0].Body);
        Assert.Equal(1u, now.Flags);
        Assert.Equal(0u, now.Pad0);
        foreach (int length in new[] { 1016, 1024, 1032 })
            Assert.Empty(HvmContext.Validate(Blob(HeaderRecord(), Record(SaveType.Cpu, 0, CpuBody(length)), EndRecord())));
    }

    [Fact]
    public void Bodies_that_grew_read_as_far_as_their_length_goes()
    {
        var blob = Blob(HeaderRecord(),
            Record(SaveType.Lapic, 0, new byte[16]), Record(SaveType.Lapic, 1, new byte[24]),
            Record(SaveType.Rtc, 0, new byte[16]),
            Record(SaveType.ViridianDomain, 0, new byte[24]),
            Record(SaveType.ViridianVcpu, 0, new byte[16]),
            Record(SaveType.VmceVcpu, 0, new byte[8]), Record(SaveType.VmceVcpu, 1, new byte[24]),
            EndRecord());
        Assert.Empty(HvmContext.Validate(blob));
        var r = HvmContext.Read(blob).Records;
        var lapic16 = Assert.IsType<Lapic>(r[0].Body);
        Assert.Null(lapic16.TdtMsr);
        var lapic24 = Assert.IsType<Lapic>(r[1].Body);
        Assert.Equal(0UL, lapic24.TdtMsr);
        Assert.Null(lapic24.PendingEsr);
        Assert.Null(Assert.IsType<Rtc>(r[2].Body).RtcOffset);
        var viridian = Assert.IsType<ViridianDomain>(r[3].Body);
        Assert.NotNull(viridian.TimeRefCount);
        Assert.Null(viridian.ReferenceTsc);
        var vp = Assert.IsType<ViridianVcpu>(r[4].Body);
        Assert.NotNull(vp.ApicAssistPending);
        Assert.Null(vp.SimpMsr);
        Assert.Empty(vp.SintMsr ?? Array.Empty<ulong>());
        Assert.Null(Assert.IsType<VmceVcpu>(r[5].Body).MciCtl2Bank0);
        Assert.Null(Assert.IsType<VmceVcpu>(r[6].Body).McgExtCtl);
        Assert.Equal(blob, HvmContext.Read(blob).ToArray());
    }

    [Fact]
    public void A_body_of_a_length_no_Xen_wrote_breaks_its_rule_and_the_blob_still_reads()
    {
        // A newer, longer LAPIC: its fields, the rest kept; a CPU too short for any layout: kept whole.
        var lapic = new byte[40];
        lapic[0] = 0x11;
        lapic[39] = 0x99;
        var blob = Blob(HeaderRecord(), Record(SaveType.Lapic, 0, lapic), Record(SaveType.Cpu, 0, new byte[600]), Record(SaveType.TscAdjust, 0, new byte[8]), EndRecord());
        var model = HvmContext.Read(blob);
        var l = Assert.IsType<Lapic>(model.Records[0].Body);
        Assert.Equal(0x11UL, l.ApicBaseMsr);
        Assert.Equal(8, l.Slack.Length);
        Assert.Equal(0x99, l.Slack.Span[7]);
        var cpu = Assert.IsType<SaveRecordBodyUnknown>(model.Records[1].Body);
        Assert.Equal(SaveType.Cpu, cpu.Key);
        Assert.Equal(600, cpu.Bytes.Length);
        Assert.IsType<TscAdjust>(model.Records[2].Body);
        Assert.Equal(blob, model.ToArray(verify: false));
        var v = HvmContext.Validate(blob);
        Assert.Equal(new[] { ("hvm-lapic-length", "40 octets"), ("hvm-cpu-length", "600 octets") }, v.Select(x => (x.Rule, x.Actual)));
        Assert.Equal(32 + 8, v[0].Offset);
        Assert.Equal(32 + 48 + 8, v[1].Offset);
    }

    [Fact]
    public void A_truncated_blob_reads_up_to_the_cut_and_says_where()
    {
        var blob = HvmContextOf(Small);
        var records = Records(blob);
        var cpu1 = records[2]; // HEADER, CPU 0, CPU 1
        Assert.Equal((ushort)SaveType.Cpu, cpu1.Type);
        var cut = blob.AsSpan(0, cpu1.Offset + 8 + 100).ToArray();

        var e = Assert.Throws<FgException>(() => HvmContext.Read(cut));
        Assert.Equal("truncated", e.Rule);
        Assert.Equal(cpu1.Offset + 8, e.Offset);
        var v = Assert.Single(HvmContext.Validate(cut));
        Assert.Equal("truncated", v.Rule);
        Assert.False(HvmContext.TryRead(cut, out _, out _));

        // One record at a time: every record before the cut, then the error.
        using var reader = new FgStreamReader<SaveRecord>(new FgSource(cut), new HvmContextStreamGrammar());
        var read = new List<SaveRecord>();
        var error = Assert.Throws<FgException>(() => { while (reader.MoveNext()) read.Add(reader.Current!); });
        Assert.Equal("truncated", error.Rule);
        var cpu = Assert.IsType<Cpu>(Assert.Single(read).Body);
        Assert.Equal(LibxcSample.VcpuRegisters(Small with { Guest = GuestKind.Hvm }, 0).Rip, cpu.Rip);

        // Cut anywhere: only FgException, never another exception.
        for (int n = 0; n < blob.Length; n += 7)
        {
            var part = blob.AsSpan(0, n).ToArray();
            try { HvmContext.Read(part); }
            catch (FgException) { }
            _ = HvmContext.Validate(part);
        }
    }

    [Fact]
    public void Damaged_blobs_fail_with_our_exceptions_only()
    {
        var blob = HvmContextOf(Small);
        var rng = new Random(11);
        for (int i = 0; i < 3000; i++)
        {
            var d = (byte[])blob.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) d[rng.Next(d.Length)] ^= (byte)(1 << rng.Next(8));
            if (rng.Next(4) == 0) d = d.AsSpan(0, rng.Next(d.Length)).ToArray();
            try { HvmContext.Read(d); }
            catch (FgException) { }
            _ = HvmContext.Validate(d);
        }
        var c = PvContextsOf(Small)[0];
        foreach (byte width in new byte[] { 8, 4, 0 })
            for (int n = 0; n <= c.Length; n += 97)
            {
                try { PvVcpu.Read(c.AsMemory(0, n), width); }
                catch (FgException) { }
                _ = PvVcpu.Validate(c.AsSpan(0, n), width);
            }
    }

    [Fact]
    public void A_context_of_the_other_width_breaks_the_size_rule()
    {
        var c64 = PvContextsOf(Small)[0];
        var c32 = new PvVcpu { Context = Context32() }.ToArray(4);
        // A 5168-octet context read as a 32-bit guest's: its first 2800 octets in that layout, the rest kept.
        var asNarrow = PvVcpu.Read(c64, 4);
        Assert.Equal(5168 - 2800, Assert.IsType<VcpuGuestContext32>(asNarrow.Context).Slack.Length);
        Assert.Equal("pv-vcpu-context-size", Assert.Single(PvVcpu.Validate(c64, 4)).Rule);
        // A 2800-octet context is too short for the 64-bit layout: kept whole.
        var asWide = PvVcpu.Read(c32, 8);
        Assert.Equal(2800, Assert.IsType<PvVcpuContextUnknown>(asWide.Context).Bytes.Length);
        var v = Assert.Single(PvVcpu.Validate(c32, 8));
        Assert.Equal(("pv-vcpu-context-size", "a context of 5168 octets (a 64-bit guest)", "2800 octets"), (v.Rule, v.Expected, v.Actual));
        Assert.Equal(c32, asWide.ToArray(8, verify: false));
        // A width no guest has: raw octets, no rule of a layout applies.
        Assert.Equal(2800, Assert.IsType<PvVcpuContextUnknown>(PvVcpu.Read(c32, 2).Context).Bytes.Length);
    }

    // ------------------------------------------------------------ rules

    private static byte[] With(byte[] b, Action<byte[]> change)
    {
        var copy = (byte[])b.Clone();
        change(copy);
        return copy;
    }

    private static byte[] One(SaveType type, byte[] body) => Blob(HeaderRecord(), Record(type, 0, body), EndRecord());

    /// <summary>Every rule of hvm_context.ksy: a blob breaking it, and the offset where it is reported.</summary>
    private static readonly Dictionary<string, (Func<byte[]> Make, long Offset)> HvmCases = new()
    {
        ["hvm-header-position"] = (() => Blob(Record(SaveType.Cpu, 0, CpuBody(1032)), EndRecord()), 0),
        ["hvm-typecode-unknown"] = (() => Blob(HeaderRecord(), Record(22, 0, new byte[4]), EndRecord()), 32),
        ["hvm-end-length"] = (() => Blob(HeaderRecord(), Record(SaveType.End, 0, new byte[8])), 32 + 8),
        ["hvm-header-magic"] = (() => Blob(Record(SaveType.Header, 0, With(HeaderBody(), b => b[0] ^= 1)), EndRecord()), 8),
        ["hvm-header-version"] = (() => Blob(Record(SaveType.Header, 0, With(HeaderBody(), b => b[4] = 2)), EndRecord()), 12),
        ["hvm-header-length"] = (() => Blob(Record(SaveType.Header, 0, HeaderBody().Concat(new byte[8]).ToArray()), EndRecord()), 8),
        ["hvm-cpu-debug-high"] = (() => One(SaveType.Cpu, With(CpuBody(1032), b => b[Cpu.Layout.Dr7Offset + 5] = 1)), 40 + Cpu.Layout.Dr7Offset),
        ["hvm-cpu-tsc-aux-high"] = (() => One(SaveType.Cpu, With(CpuBody(1032), b => b[Cpu.Layout.MsrTscAuxOffset + 4] = 1)), 40 + Cpu.Layout.MsrTscAuxOffset),
        ["hvm-cpu-flags"] = (() => One(SaveType.Cpu, With(CpuBody(1032), b => b[1024] = 2)), 40 + 1024),
        ["hvm-cpu-pad"] = (() => One(SaveType.Cpu, With(CpuBody(1032), b => b[1031] = 1)), 40 + 1028),
        ["hvm-cpu-length"] = (() => One(SaveType.Cpu, CpuBody(1032).Concat(new byte[8]).ToArray()), 40),
        ["hvm-pic-length"] = (() => One(SaveType.Pic, new byte[16]), 40),
        ["hvm-ioapic-length"] = (() => One(SaveType.Ioapic, new byte[392]), 40),
        ["hvm-lapic-length"] = (() => One(SaveType.Lapic, new byte[8]), 40),
        ["hvm-lapic-regs-length"] = (() => One(SaveType.LapicRegs, new byte[4096]), 40),
        ["hvm-pci-irq-length"] = (() => One(SaveType.PciIrq, new byte[32]), 40),
        ["hvm-isa-irq-length"] = (() => One(SaveType.IsaIrq, new byte[16]), 40),
        ["hvm-pci-link-pad"] = (() => One(SaveType.PciLink, With(new byte[8], b => b[6] = 1)), 44),
        ["hvm-pci-link-length"] = (() => One(SaveType.PciLink, new byte[4]), 40),
        ["hvm-pit-pad"] = (() => One(SaveType.Pit, With(new byte[56], b => b[55] = 1)), 40 + 52),
        ["hvm-pit-length"] = (() => One(SaveType.Pit, new byte[64]), 40),
        ["hvm-rtc-length"] = (() => One(SaveType.Rtc, new byte[32]), 40),
        ["hvm-hpet-length"] = (() => One(SaveType.Hpet, new byte[1024]), 40),
        ["hvm-pmtimer-length"] = (() => One(SaveType.Pmtimer, new byte[4]), 40),
        ["hvm-mtrr-length"] = (() => One(SaveType.Mtrr, new byte[232]), 40),
        ["hvm-viridian-domain-length"] = (() => One(SaveType.ViridianDomain, new byte[40]), 40),
        ["hvm-xsave-compressed"] = (() => One(SaveType.CpuXsave, With(new byte[600], b => b[CpuXsave.Layout.XcompBvOffset + 7] = 0x80)), 40 + CpuXsave.Layout.XcompBvOffset),
        ["hvm-xsave-length"] = (() => One(SaveType.CpuXsave, new byte[576]), 40),
        ["hvm-viridian-vcpu-length"] = (() => One(SaveType.ViridianVcpu, new byte[224]), 40),
        ["hvm-vmce-length"] = (() => One(SaveType.VmceVcpu, new byte[4]), 40),
        ["hvm-tsc-adjust-length"] = (() => One(SaveType.TscAdjust, new byte[16]), 40),
        ["hvm-msr-length"] = (() => One(SaveType.CpuMsr, With(new byte[8 + 32], b => b[0] = 1)), 40),
        ["hvm-msr-reserved"] = (() => One(SaveType.CpuMsr, With(new byte[8 + 16], b => { b[0] = 1; b[12] = 1; })), 40 + 8 + 4),
    };

    public static TheoryData<string> HvmRules()
    {
        var data = new TheoryData<string>();
        foreach (var rule in HvmCases.Keys) data.Add(rule);
        return data;
    }

    [Theory]
    [MemberData(nameof(HvmRules))]
    public void Each_HVM_rule_is_reported_once_at_its_offset(string rule)
    {
        var (make, offset) = HvmCases[rule];
        var blob = make();
        var v = Assert.Single(HvmContext.Validate(blob));
        Assert.Equal((rule, FgSeverity.Error, offset), (v.Rule, v.Severity, v.Offset));
        // The message is in words, with no grammar syntax.
        Assert.DoesNotMatch(@"_io|\.to_i|==|\{", v.ToString());
        // Whatever the rule, the blob reads; it writes back but where the model has no
        // place for the wrong octets (a constant or a zero field, which the writer derives).
        var model = HvmContext.Read(blob);
        if (rule is not ("hvm-header-magic" or "hvm-header-version" or "hvm-pci-link-pad" or "hvm-pit-pad" or "hvm-msr-reserved"))
            Assert.Equal(blob, model.ToArray(verify: false));
    }

    [Fact]
    public void Every_rule_of_the_vcpu_grammars_has_a_case()
    {
        static IEnumerable<string> RulesOf(string grammar) => Regex.Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "grammar", "xen", grammar)), @"(?:-fg-rule|rule):\s*([a-z0-9-]+)")
            .Select(m => m.Groups[1].Value).Distinct();
        Assert.Equal(RulesOf("hvm_context.ksy").Order(), HvmCases.Keys.Order());
        Assert.Equal(new[] { "pv-vcpu-context-size", "pv-vcpu-gdt-ents" }, RulesOf("pv_vcpu.ksy").Order());
    }

    [Theory]
    [InlineData(8, 4960)]
    [InlineData(4, 2704)]
    public void A_GDT_of_more_entries_than_Xen_leaves_the_guest_is_reported(byte width, int offset)
    {
        var c = width == 8 ? PvContextsOf(Small)[0] : new PvVcpu { Context = Context32() }.ToArray(4);
        var bad = With(c, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), 7169));
        var v = Assert.Single(PvVcpu.Validate(bad, width));
        Assert.Equal(("pv-vcpu-gdt-ents", offset, "at most 7168 entries (the first reserved GDT entry)", "7169 entries"), (v.Rule, v.Offset, v.Expected, v.Actual));
        Assert.Empty(PvVcpu.Validate(With(c, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), 7168)), width));
    }

    // ------------------------------------------------------------ the sample's registers

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void The_HVM_samples_registers_are_what_the_grammar_reads(int vcpus)
    {
        var o = Small with { Guest = GuestKind.Hvm, Vcpus = vcpus };
        var model = HvmContext.Read(HvmContextOf(o));
        var cpus = model.Records.Where(r => r.Typecode == SaveType.Cpu).ToList();
        Assert.Equal(vcpus, cpus.Count);
        for (int v = 0; v < vcpus; v++)
        {
            var c = Assert.IsType<Cpu>(cpus[v].Body);
            Assert.Equal((ushort)v, cpus[v].Instance);
            var read = new VcpuRegisters
            {
                Id = cpus[v].Instance,
                Rax = c.Rax, Rbx = c.Rbx, Rcx = c.Rcx, Rdx = c.Rdx, Rsi = c.Rsi, Rdi = c.Rdi, Rbp = c.Rbp, Rsp = c.Rsp,
                R8 = c.R8, R9 = c.R9, R10 = c.R10, R11 = c.R11, R12 = c.R12, R13 = c.R13, R14 = c.R14, R15 = c.R15,
                Rip = c.Rip, Rflags = c.Rflags,
                Cs = (ushort)c.CsSel, Ss = (ushort)c.SsSel, Ds = (ushort)c.DsSel, Es = (ushort)c.EsSel, Fs = (ushort)c.FsSel, Gs = (ushort)c.GsSel,
                FsBase = c.FsBase, GsBase = c.GsBase, Cr0 = c.Cr0, Cr2 = c.Cr2, Cr3 = c.Cr3, Cr4 = c.Cr4,
                Fpu = c.FpuRegs, Source = "HVM CPU record",
            };
            AssertSame(LibxcSample.VcpuRegisters(o, v), read);
            Assert.True(c.Cr3 < (ulong)o.MemoryBytes, "cr3 lies in the guest's memory");
            Assert.Equal((ulong)v, c.MsrTscAux);
        }
        Assert.Equal(vcpus, Distinct(o).Count);
    }

    [Theory]
    [InlineData(1, 1L << 20)]
    [InlineData(3, 4L << 20)]
    public void The_PV_samples_registers_are_what_the_grammar_reads(int vcpus, long memory)
    {
        var o = Small with { Guest = GuestKind.Pv, Vcpus = vcpus, MemoryBytes = memory };
        var image = Image(o);
        var contexts = PvContextsOf(o);
        Assert.Equal(vcpus, contexts.Length);
        var types = PageTypes(image);
        for (int v = 0; v < vcpus; v++)
        {
            var c = Assert.IsType<VcpuGuestContext64>(PvVcpu.Read(contexts[v], 8).Context);
            var u = c.UserRegs;
            var read = new VcpuRegisters
            {
                Id = (uint)v,
                Rax = u.Rax, Rbx = u.Rbx, Rcx = u.Rcx, Rdx = u.Rdx, Rsi = u.Rsi, Rdi = u.Rdi, Rbp = u.Rbp, Rsp = u.Rsp,
                R8 = u.R8, R9 = u.R9, R10 = u.R10, R11 = u.R11, R12 = u.R12, R13 = u.R13, R14 = u.R14, R15 = u.R15,
                Rip = u.Rip, Rflags = u.Rflags, Cs = u.Cs, Ss = u.Ss, Ds = u.Ds, Es = u.Es, Fs = u.Fs, Gs = u.Gs,
                FsBase = c.FsBase, GsBase = c.GsBaseKernel, Cr0 = c.Ctrlreg[0], Cr2 = c.Ctrlreg[2], Cr3 = c.Ctrlreg[3], Cr4 = c.Ctrlreg[4],
                Fpu = c.FpuCtxt, Source = "PV vcpu context (64-bit)",
            };
            AssertSame(LibxcSample.VcpuRegisters(o, v), read);
            // What Xen's restore checks of them: cr3 an L4 page table, the GDT frame a normal page, vcpu 0's start info a normal page.
            Assert.Equal(Xen.Libxc.PageType.L4tab, types[(long)(c.Ctrlreg[3] >> 12)]);
            Assert.Equal(Xen.Libxc.PageType.Notab, types[(long)c.GdtFrames[0]]);
            Assert.True(c.GdtEnts <= 512);
            if (v == 0) Assert.Equal(Xen.Libxc.PageType.Notab, types[(long)u.Rdx]);
            Assert.Equal(0xe033, u.Cs);
            Assert.Equal(0x25UL, c.Flags);
        }
        Assert.Equal(vcpus, Distinct(o).Count);
    }

    /// <summary>Equal registers, the FXSAVE areas by their octets.</summary>
    private static void AssertSame(VcpuRegisters expected, VcpuRegisters actual)
    {
        Assert.Equal(expected with { Fpu = default }, actual with { Fpu = default });
        Assert.Equal(512, actual.Fpu.Length);
        Assert.Equal(expected.Fpu.ToArray(), actual.Fpu.ToArray());
    }

    /// <summary>The vcpus' registers, as distinct values: no two vcpus share an rip or an rsp.</summary>
    private static HashSet<(ulong, ulong)> Distinct(SampleOptions o)
        => Enumerable.Range(0, o.Vcpus).Select(v => LibxcSample.VcpuRegisters(o, v)).Select(r => (r.Rip, r.Rsp)).ToHashSet();

    /// <summary>The type of each pfn the image's PAGE_DATA records send (the last one sent).</summary>
    private static Dictionary<long, Xen.Libxc.PageType> PageTypes(byte[] image)
    {
        var types = new Dictionary<long, Xen.Libxc.PageType>();
        foreach (var r in Xen.Libxc.Libxc.Read(image).Body.Records)
            if (r.Body is Xen.Libxc.PageData pd)
                foreach (var e in pd.Pfns) types[(long)e.Pfn] = e.Type;
        return types;
    }

    [Fact]
    public void The_samples_registers_are_the_same_for_the_same_options_and_refuse_a_vcpu_it_lacks()
    {
        var o = Small with { Vcpus = 2 };
        Assert.Equal(LibxcSample.VcpuRegisters(o, 1), LibxcSample.VcpuRegisters(o, 1));
        Assert.NotEqual(LibxcSample.VcpuRegisters(o, 0), LibxcSample.VcpuRegisters(o, 1));
        Assert.Equal(PvContextsOf(o), PvContextsOf(o));
        Assert.Throws<ArgumentOutOfRangeException>(() => LibxcSample.VcpuRegisters(o, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LibxcSample.VcpuRegisters(o, -1));
    }
}
