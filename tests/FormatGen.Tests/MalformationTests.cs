using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using Xunit;
using static FormatGen.Tests.Streams;

namespace FormatGen.Tests;

/// <summary>
/// Each malformation xen-formats.md lists gives its own violation, naming the
/// rule, the record index and the byte offset.
/// </summary>
public class MalformationTests
{
    // PV v3 sample records: 0 X86_PV_INFO, 1 CPUID, 2 MSR, 3 STATIC_DATA_END, 4 P2M_FRAMES, 5 PAGE_DATA,
    // 6 TSC_INFO, 7 SHARED_INFO, 8-15 VCPU records (2 vcpus), 16 END.
    private static readonly byte[] Pv3 = Sample(GuestKind.Pv, 3);
    // HVM v2 sample records: 0 PAGE_DATA, 1 TSC_INFO, 2 HVM_PARAMS, 3 HVM_CONTEXT, 4 END.
    private static readonly byte[] Hvm2 = Sample(GuestKind.Hvm, 2);
    private static readonly List<long> PvOff = RecordOffsets(Pv3);
    private static readonly List<long> HvmOff = RecordOffsets(Hvm2);

    /// <summary>A malformation: the image, and where its one error (or warning) must be reported.</summary>
    private sealed record Case(Func<byte[]> Make, int Record, long Offset, FgSeverity Severity = FgSeverity.Error, int Errors = 1);

    private static byte[] Set(byte[] image, long at, params byte[] bytes)
    {
        var copy = (byte[])image.Clone();
        bytes.CopyTo(copy, at);
        return copy;
    }

    private static byte[] SetU4(byte[] image, long at, uint v) { var c = (byte[])image.Clone(); U4(c, (int)at, v); return c; }
    private static byte[] SetU8(byte[] image, long at, ulong v) { var c = (byte[])image.Clone(); U8(c, (int)at, v); return c; }

    private static byte[] Body(params object[] parts)
    {
        var ms = new MemoryStream();
        foreach (var p in parts)
            switch (p)
            {
                case uint u: ms.Write(BitConverter.GetBytes(u)); break;
                case ulong l: ms.Write(BitConverter.GetBytes(l)); break;
                case byte b: ms.WriteByte(b); break;
                case byte[] a: ms.Write(a); break;
                case int zeros: ms.Write(new byte[zeros]); break;
            }
        return ms.ToArray();
    }

    private static long Body(List<long> offs, int record) => offs[record] + 8;

    /// <summary>The octets of record <paramref name="index"/> of a valid image.</summary>
    private static byte[] RecordOf(byte[] image, List<long> offs, int index)
        => image.AsSpan((int)offs[index], (int)((index + 1 < offs.Count ? offs[index + 1] : image.Length) - offs[index])).ToArray();

    private static readonly uint Skip = 0x80000010; // an optional record: takes the place of a removed one

    /// <summary>The offset of the END record, whatever came before it.</summary>
    private const long AtEnd = long.MinValue;

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Image header
        ["image-marker"] = new(() => Set(Pv3, 3, 0x7f), -1, 0),
        ["image-id"] = new(() => Set(Pv3, 8, (byte)'Y'), -1, 8),
        ["image-version"] = new(() => Set(Pv3, 15, 4), -1, 12),
        ["image-options-reserved"] = new(() => Set(Pv3, 16, 0x80), -1, 16),
        ["image-reserved"] = new(() => Set(Pv3, 21, 1), -1, 20),
        ["image-big-endian"] = new(() => Sample(GuestKind.Pv, 3, bigEndian: true), -1, 0, FgSeverity.Warning),
        // Domain header
        ["domain-type"] = new(() => Set(Pv3, 24, 9), -1, 24),
        ["domain-page-shift"] = new(() => Set(Pv3, 28, 11), -1, 28),
        ["domain-reserved"] = new(() => Set(Pv3, 30, 1), -1, 30),
        ["domain-type-unrestorable"] = new(() => Set(Hvm2, 24, 3), -1, 24, FgSeverity.Warning),
        ["domain-type-reserved"] = new(() => Set(Pv3, 24, 4), -1, 24),
        // Record framing
        ["record-padding"] = new(() => Set(Of(DomainType.X86Hvm, 2, false, new HvmParams { Params = new[] { new HvmParam { Index = 1, Value = 2 } } }, new HvmContext { Data = new byte[13] }), 40 + 32 + 8 + 13 + 1, 9), 1, 40 + 32 + 8 + 13 + 1),
        ["record-unknown-mandatory"] = new(() => SetU4(Pv3, PvOff[6], 0x13), 6, PvOff[6]),
        ["record-length-limit"] = new(() => SetU4(Pv3, PvOff[6] + 4, 200u << 20), 6, Body(PvOff, 6)),
        // END
        ["end-length"] = new(() => Splice(Pv3, 16, Raw(0, new byte[8])), 16, Body(PvOff, 16)),
        // PAGE_DATA
        ["page-data-count"] = new(() => Splice(Hvm2, 0, Raw(1, Body(0u, 0u))), 0, Body(HvmOff, 0)),
        ["page-data-reserved"] = new(() => Set(Hvm2, Body(HvmOff, 0) + 4, 1), 0, Body(HvmOff, 0) + 4),
        ["pfn-reserved-bits"] = new(() => Set(Hvm2, Body(HvmOff, 0) + 8 + 8 * 3 + 6, 0x10), 0, Body(HvmOff, 0) + 8 + 8 * 3),
        ["pfn-type"] = new(() => Set(Hvm2, Body(HvmOff, 0) + 8 + 8 * 2 + 7, 0x60), 0, Body(HvmOff, 0) + 8 + 8 * 2),
        ["page-data-length"] = new(() => Splice(Hvm2, 0, Raw(1, Body(1u, 0u, 0xF000000000000005UL, new byte[4096]))), 0, Body(HvmOff, 0)),
        ["page-data-min-length"] = new(() => Splice(Hvm2, 0, Raw(1, Body(1u))), 0, Body(HvmOff, 0)),
        ["page-data-pfn-range"] = new(() => SetU8(Pv3, Body(PvOff, 5) + 8, 600), 5, Body(PvOff, 5) + 8),
        // X86_PV_INFO
        ["pv-info-guest-width"] = new(() => Set(Pv3, Body(PvOff, 0), 5), 0, Body(PvOff, 0)),
        ["pv-info-pt-levels"] = new(() => Set(Pv3, Body(PvOff, 0) + 1, 2), 0, Body(PvOff, 0) + 1),
        ["pv-info-reserved"] = new(() => Set(Pv3, Body(PvOff, 0) + 5, 1), 0, Body(PvOff, 0) + 4),
        ["pv-info-length"] = new(() => Splice(Pv3, 0, Raw(2, Body((byte)8, (byte)4, 14))), 0, Body(PvOff, 0)),
        ["pv-info-combination"] = new(() => Set(Pv3, Body(PvOff, 0) + 1, 3), 0, Body(PvOff, 0)),
        ["layout-pv-info-repeated"] = new(() => Splice(Pv3, 1, Raw(2, Body((byte)8, (byte)4, 6)), replace: false), 1, PvOff[1]),
        // X86_PV_P2M_FRAMES
        ["p2m-frames-length"] = new(() => Splice(Pv3, 4, Raw(3, Body(0u, 511u, 4))), 4, Body(PvOff, 4)),
        ["p2m-frames-range"] = new(() => Splice(Pv3, 4, Raw(3, Body(10u, 5u, 1UL))), 4, Body(PvOff, 4)),
        ["p2m-frames-cover"] = new(() => Splice(Pv3, 4, Raw(3, Body(0u, 511u, 1UL, 2UL, 3UL))), 4, Body(PvOff, 4)),
        // Two frames cover pfns 0-1500 for a 32-bit guest; X86_PV_INFO says 64-bit, which needs three.
        ["p2m-frames-width"] = new(() => Splice(Pv3, 4, Raw(3, Body(0u, 1500u, 511UL, 510UL))), 4, Body(PvOff, 4) + 8),
        ["p2m-frames-end-zero"] = new(() => Of(DomainType.X86Pv, 3, false,
            new X86PvInfo { GuestWidth = 8, PtLevels = 4 }, new StaticDataEnd(),
            new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = 0, P2mPfns = new ulong[] { 0 } },
            new PageData { Pfns = new[] { new PfnEntry { Pfn = 0 } }, Data = new byte[4096] },
            new X86PvVcpuBasic { Vcpu = new VcpuContext { Context = new byte[5168] } }), 2, 40 + 16 + 8 + 8 + 4),
        // The frames cover pfns 512-1023 only: pfns 0-511 have no frame.
        ["p2m-frames-gap"] = new(() => Splice(Pv3, 4, Raw(3, Body(512u, 1023u, 511UL))), 16, PvOff[16]),
        // The one frame (pfn 511) sent as a page table.
        ["p2m-frames-normal"] = new(() => SetU8(Pv3, Body(PvOff, 5) + 8 + 8 * 511, (1UL << 60) | 511), 16, PvOff[16]),
        // X86_PV_VCPU_*
        ["vcpu-reserved"] = new(() => Set(Pv3, Body(PvOff, 8) + 4, 1), 8, Body(PvOff, 8) + 4),
        ["vcpu-length"] = new(() => Splice(Pv3, 9, Raw(5, Body(0u))), 9, Body(PvOff, 9)),
        ["vcpu-empty-context"] = new(() => Splice(Pv3, 9, Raw(5, Body(0u, 0u))), 9, Body(PvOff, 9), FgSeverity.Warning),
        ["vcpu-basic-size"] = new(() => Splice(Pv3, 8, Raw(4, Body(0u, 0u, 100))), 8, Body(PvOff, 8)),
        ["vcpu-basic-width"] = new(() => Splice(Pv3, 8, Raw(4, Body(0u, 0u, 2800))), 8, Body(PvOff, 8) + 8),
        // A context of the right size whose gdt_ents (at 4960 in a 64-bit vcpu_guest_context) is past what the hypervisor takes.
        ["vcpu-state-undecodable"] = new(() => SetU8(Pv3, Body(PvOff, 8) + 8 + 4960, 9000), 8, Body(PvOff, 8) + 8 + 4960, FgSeverity.Warning),
        ["vcpu-extended-size"] = new(() => Splice(Pv3, 9, Raw(5, Body(0u, 0u, 200))), 9, Body(PvOff, 9)),
        ["vcpu-xsave-size"] = new(() => Splice(Pv3, 10, Raw(6, Body(0u, 0u, 8))), 10, Body(PvOff, 10)),
        ["vcpu-msrs-size"] = new(() => Splice(Pv3, 11, Raw(12, Body(0u, 0u, 20))), 11, Body(PvOff, 11)),
        ["pv-vcpu0-basic-missing"] = new(() => Splice(Pv3, 8, Raw(Skip, Array.Empty<byte>())), 16, AtEnd),
        // SHARED_INFO, TSC_INFO
        ["shared-info-length"] = new(() => Splice(Pv3, 7, Raw(7, new byte[100])), 7, Body(PvOff, 7)),
        ["tsc-info-length"] = new(() => Splice(Pv3, 6, Raw(8, new byte[16])), 6, Body(PvOff, 6)),
        ["tsc-info-reserved"] = new(() => Set(Pv3, Body(PvOff, 6) + 20, 1), 6, Body(PvOff, 6) + 20),
        ["tsc-info-mode"] = new(() => Set(Pv3, Body(PvOff, 6), 3), 6, Body(PvOff, 6)),
        // HVM_CONTEXT, HVM_PARAMS
        ["hvm-context-length"] = new(() => Splice(Hvm2, 3, Raw(9, Array.Empty<byte>())), 3, Body(HvmOff, 3)),
        ["hvm-params-reserved"] = new(() => Set(Hvm2, Body(HvmOff, 2) + 4, 1), 2, Body(HvmOff, 2) + 4),
        ["hvm-params-length"] = new(() => Splice(Hvm2, 2, Raw(10, Body(1u, 0u, 1UL, 2UL, 3UL, 4UL))), 2, Body(HvmOff, 2)),
        ["hvm-params-empty"] = new(() => Splice(Hvm2, 2, Raw(10, Body(0u, 0u))), 2, Body(HvmOff, 2), FgSeverity.Warning),
        ["hvm-param-index"] = new(() => SetU8(Hvm2, Body(HvmOff, 2) + 8 + 16 * 2, 39), 2, Body(HvmOff, 2) + 8 + 16 * 2),
        ["layout-hvm-params-missing"] = new(() => Splice(Hvm2, 2, Raw(Skip, new byte[88])), 3, HvmOff[3]),
        ["layout-hvm-context-missing"] = new(() => Splice(Hvm2, 3, Raw(Skip, new byte[8])), 4, AtEnd),
        // TOOLSTACK
        ["toolstack-refused"] = new(() => Splice(Hvm2, 3, Raw(11, new byte[8]), replace: false), 3, Body(HvmOff, 3)),
        // VERIFY, CHECKPOINT, CHECKPOINT_DIRTY_PFN_LIST, STATIC_DATA_END
        ["verify-length"] = new(() => Splice(Pv3, 6, Raw(13, new byte[8]), replace: false), 6, Body(PvOff, 6)),
        // A CHECKPOINT with a body, in a plain stream: two mistakes.
        ["checkpoint-length"] = new(() => Splice(Pv3, 6, Raw(14, new byte[8]), replace: false), 6, Body(PvOff, 6), Errors: 2),
        ["layout-checkpoint-in-plain-stream"] = new(() => Splice(Pv3, 6, Raw(14, Array.Empty<byte>()), replace: false), 6, PvOff[6]),
        ["dirty-pfn-list-back-channel"] = new(() => Splice(Pv3, 6, Raw(15, new byte[8]), replace: false), 6, Body(PvOff, 6)),
        ["dirty-pfn-list-length"] = new(() => Splice(Pv3, 6, Raw(15, new byte[12]), replace: false), 6, Body(PvOff, 6), Errors: 2),
        ["static-data-end-length"] = new(() => Splice(Pv3, 3, Raw(16, new byte[8])), 3, Body(PvOff, 3)),
        // Policies
        ["cpuid-policy-length"] = new(() => Splice(Pv3, 1, Raw(17, new byte[30])), 1, Body(PvOff, 1)),
        ["msr-policy-length"] = new(() => Splice(Pv3, 2, Raw(18, new byte[24])), 2, Body(PvOff, 2)),
        ["msr-flags-reserved"] = new(() => Set(Pv3, Body(PvOff, 2) + 4, 1), 2, Body(PvOff, 2) + 4),
        // Order
        ["layout-pv-info-missing"] = new(() => Splice(Pv3, 0, Raw(Skip, new byte[8])), 4, PvOff[4]),
        ["layout-p2m-frames-missing"] = new(() => Splice(Pv3, 4, Raw(Skip, new byte[16])), 5, PvOff[5]),
        ["layout-page-data-missing"] = new(() => Splice(Pv3, 5, Raw(Skip, Array.Empty<byte>())), 8, PvOff[8] - (PvOff[6] - PvOff[5]) + 8),
        ["layout-pages-after-vcpu"] = new(() => Splice(Pv3, 16, RecordOf(Pv3, PvOff, 5), replace: false), 16, PvOff[16]),
        ["layout-static-data-end-missing"] = new(() => Splice(Pv3, 3, Raw(Skip, Array.Empty<byte>())), 4, PvOff[4]),
        ["layout-static-data-end-repeated"] = new(() => Splice(Pv3, 4, Raw(16, Array.Empty<byte>()), replace: false), 4, PvOff[4]),
        ["layout-static-after-end"] = new(() => Splice(Pv3, 4, RecordOf(Pv3, PvOff, 1), replace: false), 4, PvOff[4]),
        ["layout-pv-record-in-hvm"] = new(() => Splice(Hvm2, 1, Raw(2, Body((byte)8, (byte)4, 6)), replace: false), 1, HvmOff[1]),
        ["layout-hvm-record-in-pv"] = new(() => Splice(Pv3, 6, Raw(9, new byte[8]), replace: false), 6, PvOff[6]),
    };

    public static IEnumerable<object[]> Rules() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_malformation_reports_its_rule_record_and_offset(string rule)
    {
        var c = Cases[rule];
        var image = c.Make();
        var (violations, error, _) = Verify(image);
        var all = violations.ToList();
        if (error is not null) all.Add(error.ToViolation());
        var found = all.Where(v => v.Rule == rule).ToList();
        Assert.True(found.Count > 0, $"no '{rule}' among: {string.Join(" | ", all)}");
        var v = found[0];
        Assert.Equal(c.Record, v.RecordIndex);
        Assert.Equal(c.Offset == AtEnd ? image.Length - 8 : c.Offset, v.Offset);
        Assert.Equal(c.Severity, v.Severity);
        // The message names the rule and, inside a stream, the record.
        Assert.Contains(rule, v.ToString());
        if (c.Record >= 0) Assert.Contains("record " + c.Record, v.ToString());
        // One mistake, one error (a warning case: no error at all).
        var errors = all.Where(x => x.Severity == FgSeverity.Error).ToList();
        Assert.True(errors.Count == (c.Severity == FgSeverity.Error ? c.Errors : 0), "errors: " + string.Join(" | ", errors));
        // Plain words: no grammar syntax in what the user reads.
        foreach (var x in all) AssertPlain(x.ToString());
    }

    /// <summary>What grammar expressions look like; a user never reads them.</summary>
    private static void AssertPlain(string message)
    {
        foreach (var syntax in new[] { "_io", "_root", "_parent", ".to_i", "==", "!=", ">=", "<=", "::", "(expected false", "found false)", "found true)" })
            Assert.False(message.Contains(syntax, StringComparison.Ordinal), $"'{syntax}' in: {message}");
    }

    [Fact]
    public void Every_rule_of_the_grammar_has_a_malformation_case()
    {
        var grammar = File.ReadAllText(RepoPaths.Libxc);
        var layout = File.ReadAllText(Path.Combine(RepoPaths.Root, "runtime", "FormatGen.Xen", "LayoutRules.cs"));
        var rules = System.Text.RegularExpressions.Regex.Matches(grammar, @"(?:-fg-rule|rule):\s*([a-z0-9-]+)")
            .Concat(System.Text.RegularExpressions.Regex.Matches(layout, @"""((?:layout|p2m|page-data|vcpu|pv)-[a-z0-9-]+)"""))
            .Select(m => m.Groups[1].Value).Distinct()
            .Where(r => r != "record-unknown-optional").ToList();
        Assert.True(rules.Count > 70, "found only " + rules.Count + " rules");
        var missing = rules.Where(r => !Cases.ContainsKey(r)).ToList();
        Assert.True(missing.Count == 0, "rules without a case: " + string.Join(", ", missing));
    }

    [Fact]
    public void Unknown_optional_records_are_skipped_and_reported_as_info()
    {
        var image = Splice(Pv3, 6, Raw(0x80001234, new byte[5]), replace: false);
        var (violations, error, records) = Verify(image);
        Assert.Null(error);
        Assert.Equal(18, records);
        var v = Assert.Single(violations);
        Assert.Equal("record-unknown-optional", v.Rule);
        Assert.Equal(FgSeverity.Info, v.Severity);
        Assert.Equal(6, v.RecordIndex);
    }

    [Fact]
    public void Version_3_records_are_unknown_mandatory_in_a_version_2_stream()
    {
        var image = Splice(Hvm2, 1, Raw(16, Array.Empty<byte>()), replace: false);
        var (violations, _, _) = Verify(image);
        var v = Assert.Single(violations, x => x.Rule == "record-unknown-mandatory");
        Assert.Equal(1, v.RecordIndex);
    }

    [Fact]
    public void Several_violations_in_one_record_are_all_reported()
    {
        var image = Set(Pv3, Body(PvOff, 0), 5, 2, 1);
        var (violations, _, _) = Verify(image);
        Assert.Contains(violations, v => v.Rule == "pv-info-guest-width");
        Assert.Contains(violations, v => v.Rule == "pv-info-pt-levels");
        Assert.Contains(violations, v => v.Rule == "pv-info-reserved");
    }

    [Fact]
    public void A_body_too_short_for_its_fields_is_a_structural_error_with_its_path()
    {
        var image = Splice(Hvm2, 2, Raw(10, Body(3u, 0u, 1UL, 2UL)));
        var (_, error, _) = Verify(image);
        Assert.NotNull(error);
        Assert.Equal("too-short", error!.Rule);
        Assert.Equal(2, error.RecordIndex);
        // The count is checked against the octets left before anything is allocated.
        Assert.Equal("body.params", error.FieldPath);
        Assert.Equal(Body(HvmOff, 2) + 8, error.Offset);
        Assert.Equal("HVM_PARAMS", error.RecordName);
    }
}

/// <summary>The rules that follow the P2M frames as the stream changes them.</summary>
public class P2mFrameTests
{
    private static PageData Pages(long first, int n, long? tableAt = null)
        => new()
        {
            Pfns = Enumerable.Range(0, n).Select(i => new PfnEntry { Pfn = (ulong)(first + i), Type = first + i == tableAt ? PageType.L1tab : PageType.Notab }).ToArray(),
            Data = new byte[n * 4096],
        };

    /// <summary>A 64-bit PV guest of 512 pages whose P2M grows to 1024 pages half way, the new frame at <paramref name="newFrame"/>.</summary>
    private static byte[] Growing(ulong newFrame, long? tableAt = null) => Streams.Of(DomainType.X86Pv, 3, false,
        new X86PvInfo { GuestWidth = 8, PtLevels = 4 }, new StaticDataEnd(),
        new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = 511, P2mPfns = new ulong[] { 511 } },
        Pages(0, 512),
        new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = 1023, P2mPfns = new ulong[] { 511, newFrame } },
        Pages(512, 512, tableAt),
        new X86PvVcpuBasic { Vcpu = new VcpuContext { Context = new byte[5168] } });

    private static List<FgViolation> Errors(byte[] image)
    {
        var (violations, error, _) = Streams.Verify(image);
        Assert.Null(error);
        return violations.Where(v => v.Severity == FgSeverity.Error).ToList();
    }

    [Fact]
    public void A_frame_named_as_the_P2M_grows_is_checked_when_sent_after_and_not_guessed_when_sent_before()
    {
        Assert.Empty(Errors(Growing(1000)));          // sent after it was named, as a normal page
        Assert.Empty(Errors(Growing(100)));           // sent before it was named: not known, not an error
        var v = Assert.Single(Errors(Growing(1000, tableAt: 1000)));
        Assert.Equal("p2m-frames-normal", v.Rule);
        Assert.Contains("frame 1 (pfn 1000) last sent as L1TAB", v.ToString());
    }

    [Fact]
    public void A_P2M_that_claims_the_whole_pfn_range_costs_memory_for_the_frames_it_names_only()
    {
        // One frame for the last 512 of 2^32 pfns: the frame table must not span the range.
        var image = Streams.Of(DomainType.X86Pv, 3, false,
            new X86PvInfo { GuestWidth = 8, PtLevels = 4 }, new StaticDataEnd(),
            new X86PvP2mFrames { P2mStartPfn = 0xFFFFFE00, P2mEndPfn = 0xFFFFFFFF, P2mPfns = new ulong[] { 7 } },
            Pages(0, 8),
            new X86PvVcpuBasic { Vcpu = new VcpuContext { Context = new byte[5168] } });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var errors = Errors(image);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 << 20, $"allocated {allocated} octets");
        var v = Assert.Single(errors);
        Assert.Equal("p2m-frames-gap", v.Rule);
    }
}
