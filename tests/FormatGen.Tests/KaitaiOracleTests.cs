using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using Xunit.Abstractions;

namespace FormatGen.Tests;

/// <summary>
/// Kaitai Struct as the differential oracle: every grammar of the test suite is
/// compiled by Kaitai's compiler (to JavaScript, run under node) and by our
/// generator; both parse the same inputs and their trees must agree field by
/// field (docs/kaitai-oracle.md).
/// </summary>
public class KaitaiOracleTests(ITestOutputHelper output)
{
    /// <summary>Every grammar of the tests and of grammar/, found by globbing, so a grammar added later is compared too.</summary>
    public static TheoryData<string> Grammars()
    {
        var root = RepoPaths.Root;
        var files = Directory.GetFiles(Path.Combine(root, "tests", "FormatGen.Tests", "Grammars"), "*.ksy")
            .Concat(Directory.GetFiles(Path.Combine(root, "grammar"), "*.ksy", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        var data = new TheoryData<string>();
        foreach (var f in files) data.Add(f);
        return data;
    }

    /// <summary>FORMATGEN_ORACLE_SEED replays a run; otherwise each run draws new inputs (the seed is printed).</summary>
    private static ulong Seed()
        => ulong.TryParse(Environment.GetEnvironmentVariable("FORMATGEN_ORACLE_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : (ulong)System.Random.Shared.NextInt64(1, long.MaxValue);

    [Theory]
    [MemberData(nameof(Grammars))]
    public void Kaitai_and_our_reader_agree_on_every_input(string grammar)
    {
        var clock = Stopwatch.StartNew();
        var node = KaitaiNode.EnsureReady();
        var path = Path.Combine(RepoPaths.Root, grammar);
        var generated = GeneratedGrammar.Compile(path);
        var seed = Seed();
        var (valid, inputs) = OracleInputs.For(generated, seed);
        var run = KaitaiNode.Parse(path, inputs);
        var report = new OracleReport();
        foreach (var d in run.Compiled.GetProperty("dropped").EnumerateArray())
            report.Dropped.Add($"{d.GetProperty("type").GetString()}.{d.GetProperty("field").GetString()}: {d.GetProperty("expr").GetString()}");
        var comparer = new OracleComparer(generated, report);
        for (int i = 0; i < inputs.Count; i++) comparer.Check(inputs[i], run.Results[i]);

        var header = $"{grammar}: seed {seed} (FORMATGEN_ORACLE_SEED={seed} replays it), node {node}, {valid} valid input(s) among {inputs.Count}, {clock.Elapsed.TotalSeconds:F1} s"
            + (valid == 0 ? "\n  (this grammar has no inputs of its own, only random octets: add NAME.samples next to it, or a generator in OracleInputs.For)" : "");
        output.WriteLine(header);
        output.WriteLine(report.Summary());
        if (report.Disagreements.Count > 0)
        {
            var dir = Path.Combine(Path.GetTempPath(), "formatgen-kaitai-oracle", Path.GetFileNameWithoutExtension(grammar) + "-" + seed.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dir);
            foreach (var input in report.DisagreeingInputs) File.WriteAllBytes(Path.Combine(dir, FileName(input) + ".bin"), input.Data);
            Assert.Fail($"{header}\n{report.Summary()}\nKaitai and our reader disagree ({report.Disagreements.Count}):\n  "
                + string.Join("\n  ", report.Disagreements.Take(20))
                + $"\nThose inputs are in {dir} (named as above, up to the first space); `node .ci/kaitai/parse.js {grammar} {dir}/NAME.bin` prints Kaitai's tree.");
        }
        // A grammar Kaitai's JS cannot read at all (wide_bits.ksy) is compared with nothing; say so, do not fail.
        bool kaitaiCannot = Enumerable.Range(0, valid).All(i => run.Results[i].Error is { } e && OracleComparer.KaitaiLimit(e.Message) is not null);
        if (valid > 0 && !kaitaiCannot) Assert.True(report.BothParsed > 0, $"{grammar}: no input was parsed by both readers; the comparison of trees was never made.\n{report.Summary()}");
    }

    // ------------------------------------------------------------ the oracle's own checks

    private static string TestGrammar(string name) => Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", name);

    private static OracleReport CompareOne(GeneratedGrammar g, OracleInput input, KaitaiResult kaitai)
    {
        var report = new OracleReport();
        new OracleComparer(g, report).Check(input, kaitai);
        return report;
    }

    private static KaitaiResult Edited(KaitaiResult r, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(r.Tree!.Value.GetRawText())!;
        edit(node);
        return r with { Tree = JsonDocument.Parse(node.ToJsonString()).RootElement.Clone() };
    }

    [Fact]
    public void The_oracle_names_the_path_and_both_values_of_each_difference()
    {
        var path = TestGrammar("tlv.ksy");
        var g = GeneratedGrammar.Compile(path);
        var input = new OracleInput("sample", GeneratedBehaviourTests.Sample);
        var kaitai = KaitaiNode.Parse(path, new[] { input }).Results[0];
        var same = CompareOne(g, input, kaitai);
        Assert.Empty(same.Disagreements);
        Assert.Equal(1, same.BothParsed);
        Assert.Equal(12, same.Compared); // count, flags, tag and number, tag and text, crc, and the slack (none) of both items, number, text and the root

        string Only(OracleReport r) => Assert.Single(r.Disagreements);
        Assert.Contains("crc: Kaitai 1, ours 16909060", Only(CompareOne(g, input, Edited(kaitai, t => t["crc"] = 1))));
        Assert.Contains("items[1].value.chars: Kaitai octets 686578, ours octets 686579",
            Only(CompareOne(g, input, Edited(kaitai, t => t["items"]![1]!["value"]!["chars"] = "686578"))));
        Assert.Contains("items: Kaitai 1 element(s), ours 2 element(s)",
            Only(CompareOne(g, input, Edited(kaitai, t => t["items"]!.AsArray().RemoveAt(1)))));
        Assert.Contains("items[0].value: Kaitai type Text, ours type tlv::number",
            Only(CompareOne(g, input, Edited(kaitai, t => t["items"]![0]!["value"]!["$type"] = "Text"))));
        Assert.Contains("items[0].tag: Kaitai 2, ours Number (1)",
            Only(CompareOne(g, input, Edited(kaitai, t => t["items"]![0]!["tag"] = 2))));
        Assert.Contains("Kaitai refuses the input (EOFError at 3: requested 4 bytes, but only 1 bytes available); our Read parses it and our Validate reports no error",
            Only(CompareOne(g, input, kaitai with { Tree = null, Error = new KaitaiError("EOFError", "requested 4 bytes, but only 1 bytes available", 3, null) })));
        // Only Kaitai's members are skipped, and said so.
        Assert.Equal(new[] { "Item.length", "Item.pad", "Tlv.magic" }, same.OnlyKaitai.Keys);
    }

    [Fact]
    public void Kaitai_doubles_meet_our_64_bit_integers_rounded_as_javascript_rounds_them_and_no_looser()
    {
        var path = RepoPaths.Libxc;
        var g = GeneratedGrammar.Compile(path);
        var input = new OracleInput("tsc", Streams.Of(Xen.Libxc.DomainType.X86Hvm, 3, false,
            new TscInfo { Khz = 1, Nsec = 0x8000_0000_0000_0401UL }, new PageData { Pfns = new[] { new PfnEntry { Type = PageType.Xtab, Pfn = 0xf_ffff_ffff_fffdUL } }, Data = Array.Empty<byte>() }));
        var kaitai = KaitaiNode.Parse(path, new[] { input }).Results[0];
        var same = CompareOne(g, input, kaitai);
        Assert.Empty(same.Disagreements);
        var marker = kaitai.Tree!.Value.GetProperty("imageHeader").GetProperty("marker");
        Assert.Equal("18446744073709551616", marker.GetProperty("$double").GetString()); // 2^64: 0xffffffffffffffff as a double
        // 0x8000000000000401 is 2^63 + 1025; its double is 2^63 + 2048: our value is rounded, not compared loosely.
        var nsec = kaitai.Tree!.Value.GetProperty("body").GetProperty("records")[0].GetProperty("body").GetProperty("nsec");
        Assert.Equal("9223372036854777856", nsec.GetProperty("$double").GetString());
        Assert.Contains("records[0].body.nsec: Kaitai 9223372036854775808 (a double",
            Assert.Single(CompareOne(g, input, Edited(kaitai, t => t["body"]!["records"]![0]!["body"]!["nsec"] = new JsonObject { ["$double"] = "9223372036854775808" })).Disagreements));
        // The pfn entry's instances are Kaitai's 32-bit bit operations: skipped, and said so.
        Assert.Equal(1, same.Js32Skipped["PfnEntry.type"]);
    }

    [Fact]
    public void Ids_the_generator_renames_still_meet_their_Kaitai_members()
    {
        var dir = Directory.CreateTempSubdirectory("formatgen-oracle-");
        try
        {
            var path = Path.Combine(dir.FullName, "named.ksy");
            File.WriteAllText(path, "meta:\n  id: named\n  endian: le\nseq:\n  - id: named\n    type: u1\n  - id: layout\n    type: u1\n  - id: two_words\n    type: u2\n");
            var g = GeneratedGrammar.Compile(path);
            Assert.NotNull(g.Root.GetProperty("NamedValue"));
            Assert.NotNull(g.Root.GetProperty("LayoutValue"));
            var input = new OracleInput("four", new byte[] { 1, 2, 3, 4 });
            var report = CompareOne(g, input, KaitaiNode.Parse(path, new[] { input }).Results[0]);
            Assert.Empty(report.Disagreements);
            Assert.Empty(report.OnlyKaitai);
            Assert.Equal(4, report.Compared); // three fields and the root's slack (none)
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // ------------------------------------------------------------ disagreements found

    /// <summary>
    /// Known disagreement, our side by design (docs/kaitai-oracle.md, "Entry
    /// checks keep octets whole"): a -fg-checks rule that reads only _io.size
    /// and params is checked before its type is parsed, and when it fails
    /// inside a sized field our reader keeps the octets as the unknown case.
    /// Kaitai has no such rules and parses the type from the octets.
    /// </summary>
    /// <summary>
    /// Where an entry check (a -fg-checks rule on _io.size or parameters) fails,
    /// our model holds the type Kaitai parses, with every value Kaitai has, our
    /// Validate reports the rule once, and writing the model gives back the
    /// input (the octets after the type's fields are kept as its slack).
    /// </summary>
    [Theory]
    [InlineData("tsc-info-32-octets", "tsc-info-length")]
    [InlineData("toolstack", "toolstack-refused")]
    [InlineData("end-with-a-body", "end-length")]
    [InlineData("tlv-number-5-octets", "number-length")]
    public void Where_our_entry_check_fails_our_model_holds_the_type_Kaitai_parses(string which, string rule)
    {
        var (grammar, data) = EntryCheckCase(which);
        var g = GeneratedGrammar.Compile(grammar);
        var input = new OracleInput(which, data);
        var report = new OracleReport();
        new OracleComparer(g, report).Check(input, KaitaiNode.Parse(grammar, new[] { input }).Results[0]);
        Assert.True(report.Disagreements.Count == 0, string.Join("\n", report.Disagreements));
        Assert.Equal(1, report.BothParsed);
        Assert.Equal(new[] { rule }, g.Validate(data).Where(v => v.Severity == FormatGen.Runtime.FgSeverity.Error).Select(v => v.Rule).ToArray());
        Assert.Equal(data, g.WriteUnchecked(g.Read(data)));
    }

    private static (string Grammar, byte[] Data) EntryCheckCase(string which)
    {
        byte[] Libxc(byte[] raw) => Streams.Splice(Streams.Of(Xen.Libxc.DomainType.X86Hvm, 3, false), 0, raw, replace: false);
        switch (which)
        {
            case "tsc-info-32-octets":
                var tsc = new TscInfo { Mode = 1, Khz = 2_400_000, Nsec = 5, Incarnation = 2 }.ToArray(littleEndian: true);
                return (RepoPaths.Libxc, Libxc(Streams.Raw(8, tsc.Concat(new byte[8]).ToArray())));
            case "toolstack":
                return (RepoPaths.Libxc, Libxc(Streams.Raw(0x0b, new byte[] { 1, 2, 3, 4, 5 })));
            case "end-with-a-body":
            {
                // The stream's own END, given a body: nothing follows it.
                var image = Streams.Of(Xen.Libxc.DomainType.X86Hvm, 3, false);
                return (RepoPaths.Libxc, Streams.Splice(image, Streams.RecordOffsets(image).Count - 1, Streams.Raw(0, new byte[] { 9, 9, 9, 9, 9, 9, 9, 9 })));
            }
            case "tlv-number-5-octets":
                // One number item of length 5 (value 7 and one more octet), one octet of padding, crc.
                return (TestGrammar("tlv.ksy"), new byte[] { 0x54, 0x4c, 0x56, 0x31, 1, 0, 0, 0, 1, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
            default:
                throw new ArgumentOutOfRangeException(nameof(which));
        }
    }

    /// <summary>
    /// Kaitai's bug, pinned (docs/kaitai-oracle.md, "Kaitai's JavaScript and
    /// 64-bit integers"): its JS applies bitwise operators to 32 bits, so
    /// `((raw >> 52) & 0xff) == 0` tests bits 20-27 of the low word and
    /// `raw >> 60` shifts the low word by 28. parse.js therefore drops that
    /// valid rule and skips those instances; if this test fails, Kaitai got it
    /// right and the exclusion can go.
    /// </summary>
    [Fact]
    public void Kaitai_JS_applies_bitwise_operators_to_the_low_32_bits_of_a_u8()
    {
        var input = new OracleInput("pfn-4GiB", Streams.Of(Xen.Libxc.DomainType.X86Hvm, 3, false,
            new PageData { Pfns = new[] { new PfnEntry { Type = PageType.L1tab, Pfn = 0x100005 } }, Data = new byte[4096] }));
        Assert.DoesNotContain(Libxc.Validate(input.Data), v => v.Severity == FormatGen.Runtime.FgSeverity.Error);
        var asWritten = KaitaiNode.Parse(RepoPaths.Libxc, new[] { input }, asWritten: true).Results[0];
        Assert.Equal("ValidationExprError", asWritten.Error?.Kind);
        Assert.Equal("/types/image_body/types/pfn_entry/seq/0", asWritten.Error?.SrcPath);

        var run = KaitaiNode.Parse(RepoPaths.Libxc, new[] { input });
        var entry = run.Results[0].Tree!.Value.GetProperty("body").GetProperty("records")[0].GetProperty("body").GetProperty("pfns")[0];
        Assert.Equal(0, entry.GetProperty("type").GetProperty("$js32").GetInt32());       // L1TAB is 1
        // As a double, 2^60 + 0x100005 is 2^60 + 0x100000 (a multiple of 256): the pfn is wrong from the read on.
        Assert.Equal(0x100000, entry.GetProperty("pfn").GetProperty("$js32").GetInt32());
        Assert.Equal(new[] { "libxc.image_body.pfn_entry.raw" }, run.Compiled.GetProperty("dropped").EnumerateArray().Select(d => d.GetProperty("type").GetString() + "." + d.GetProperty("field").GetString()));
    }

    /// <summary>
    /// Kaitai's JS reads u8 as a double, so `valid: 0xffffffffffffffff` passes
    /// every marker within 1024 of it. Our rule is exact; the comparison allows
    /// us to be stricter than Kaitai (our error, Kaitai's tree), so nothing is
    /// excluded for this.
    /// </summary>
    [Fact]
    public void Kaitai_JS_compares_a_u8_constant_as_a_double_and_we_do_not()
    {
        var data = Streams.Of(Xen.Libxc.DomainType.X86Hvm, 3, false);
        data[7] = 0x00; // marker 0xffffffffffffff00, which rounds to 2^64 as 0xffffffffffffffff does
        var input = new OracleInput("marker-ff00", data);
        var g = GeneratedGrammar.Compile(RepoPaths.Libxc);
        var kaitai = KaitaiNode.Parse(RepoPaths.Libxc, new[] { input }, asWritten: true).Results[0];
        Assert.Null(kaitai.Error);
        var report = CompareOne(g, input, kaitai);
        Assert.Empty(report.Disagreements);
        Assert.Equal(1, report.OurRulesKaitaiLacks["image-marker"]);
    }

    /// <summary>
    /// Kaitai's bug (docs/kaitai-oracle.md, item 3): its JS runtime's
    /// readS8le/readS8be get a negative value wrong when the low word is below
    /// 2^31 (-2^32 reads as 0). As written, the oracle reports it as a
    /// disagreement; parse.js corrects it (hvm_context.ksy's rtc_offset is an
    /// s8), and then the two readers agree. If the first half fails, Kaitai
    /// fixed it and the correction can go.
    /// </summary>
    [Fact]
    public void Kaitai_JS_reads_some_negative_s8_wrong_and_parse_js_corrects_it()
    {
        var dir = Directory.CreateTempSubdirectory("formatgen-oracle-");
        try
        {
            var path = Path.Combine(dir.FullName, "signed.ksy");
            File.WriteAllText(path, "meta:\n  id: signed\n  endian: le\nseq:\n  - id: value\n    type: s8\n  - id: big\n    type: s8be\n");
            var g = GeneratedGrammar.Compile(path);
            var input = new OracleInput("minus-2^32", new byte[] { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 });
            var asWritten = CompareOne(g, input, KaitaiNode.Parse(path, new[] { input }, asWritten: true).Results[0]);
            var both = Assert.Single(asWritten.Disagreements);
            Assert.Contains("value: Kaitai 0, ours -4294967296", both);
            Assert.Contains("big: Kaitai 0, ours -4294967296", both);
            var corrected = CompareOne(g, input, KaitaiNode.Parse(path, new[] { input }).Results[0]);
            Assert.Empty(corrected.Disagreements);
            Assert.Equal(1, corrected.BothParsed);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Kaitai's compiler, pinned (docs/kaitai-oracle.md, item 8): an integer or
    /// float case of a switch with a size is read without the size, although
    /// its user guide says the size applies to every case. Ours reads it within
    /// the size and keeps the rest as slack. If this fails, Kaitai changed.
    /// </summary>
    [Fact]
    public void Kaitai_reads_an_integer_case_of_a_sized_switch_without_the_size_and_we_within_it()
    {
        var dir = Directory.CreateTempSubdirectory("formatgen-oracle-");
        try
        {
            var path = Path.Combine(dir.FullName, "sized_case.ksy");
            File.WriteAllText(path, "meta:\n  id: sized_case\n  endian: le\nseq:\n  - id: kind\n    type: u1\n  - id: value\n    size: 4\n"
                + "    type:\n      switch-on: kind\n      cases:\n        1: u2\n  - id: after\n    type: u1\n");
            var g = GeneratedGrammar.Compile(path);
            var input = new OracleInput("u2-in-4", new byte[] { 1, 0x34, 0x12, 0xAA, 0xBB, 7 });
            var kaitai = KaitaiNode.Parse(path, new[] { input }).Results[0];
            Assert.Equal(0xAA, kaitai.Tree!.Value.GetProperty("after").GetInt32());
            var model = g.Read(input.Data);
            Assert.Equal((byte)7, model.GetType().GetProperty("After")!.GetValue(model));
            var value = model.GetType().GetProperty("Value")!.GetValue(model)!;
            Assert.Equal((ushort)0x1234, value.GetType().GetProperty("Value")!.GetValue(value));
            Assert.Equal(new byte[] { 0xAA, 0xBB }, ((ReadOnlyMemory<byte>)value.GetType().GetProperty("Slack")!.GetValue(value)!).ToArray());
            Assert.Equal(input.Data, g.Write(model));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>"mutant#12 (bit 3 of ...)" is saved as mutant-12.bin.</summary>
    private static string FileName(OracleInput input)
        => string.Concat(input.Name.Split(' ')[0].Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
}

/// <summary>
/// The inputs a grammar is checked on: fixed samples and models written by our
/// writer (valid), random octets, and mutations of the valid ones (bit flips,
/// interesting values at interesting offsets, truncations, random tails).
/// </summary>
internal static class OracleInputs
{
    /// <summary>FORMATGEN_ORACLE_SCALE multiplies the number of generated inputs, for a deeper run by hand.</summary>
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("FORMATGEN_ORACLE_SCALE"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;
    private static readonly int RandomCount = 40 * Scale;
    private static readonly int MutantCount = 300 * Scale;
    private static readonly int ModelCount = 60 * Scale;
    private static readonly int StructuredCount = 100 * Scale;

    /// <summary>The number of valid inputs (first in the list) and all inputs.</summary>
    public static (int Valid, List<OracleInput> Inputs) For(GeneratedGrammar g, ulong seed)
    {
        var (valid, structured) = Path.GetFileName(g.Path) switch
        {
            "libxc.ksy" => (Libxc(seed), LibxcStructured.Sample(StructuredCount, new Rnd(seed + 2), 50)),
            "tlv.ksy" => (Tlv(g, seed), TlvStructured.Sample(StructuredCount, new Rnd(seed + 2), 50)),
            "frame.ksy" => (Frame(g, seed), FrameStructured.Sample(StructuredCount, new Rnd(seed + 2), 50)),
            "libxl.ksy" => (Libxl(), Array.Empty<byte[]>()),
            "xl.ksy" => (Xl(), Array.Empty<byte[]>()),
            "legacy.ksy" => (Legacy(seed), Array.Empty<byte[]>()),
            "hvm_context.ksy" => (HvmContexts(seed), VcpuStates.StructuredGen().Sample(StructuredCount, new Rnd(seed + 2), 50)),
            "pv_vcpu.ksy" => (PvVcpus(seed), Array.Empty<byte[]>()),
            _ => (Samples(g), Array.Empty<byte[]>()),
        };
        var all = new List<OracleInput>(valid);
        for (int i = 0; i < structured.Length; i++) all.Add(new OracleInput($"structured#{i}", structured[i]));
        var random = Bytes(0, 96).Sample(RandomCount, new Rnd(seed ^ 0x5EED), 50);
        // A root with params: random octets are read with those of the valid inputs, in turn.
        object[]? ParamsOf(int i) => valid.Count == 0 ? null : valid[i % valid.Count].Params;
        for (int i = 0; i < random.Length; i++) all.Add(new OracleInput($"random#{i}", random[i], ParamsOf(i)));
        if (valid.Count > 0)
        {
            var hot = valid.Select(v => Hotspots(g, v.Data)).ToArray();
            var mutants = Gen.Choose(0, valid.Count - 1)
                .SelectMany(i => Mutation(valid[i].Data, hot[i]).Select(m => (Base: i, m.What, m.Data)))
                .Sample(MutantCount, new Rnd(seed ^ 0xB1F), 50);
            for (int j = 0; j < mutants.Length; j++)
                all.Add(new OracleInput($"mutant#{j} ({mutants[j].What} of {valid[mutants[j].Base].Name})", mutants[j].Data, valid[mutants[j].Base].Params));
        }
        return (valid.Count, all);
    }

    /// <summary>
    /// The valid inputs written down next to a grammar: NAME.samples holds one
    /// input per line in hex (spaces allowed; '#' starts a comment; a string in
    /// double quotes stands for its ASCII octets).
    /// </summary>
    private static List<OracleInput> Samples(GeneratedGrammar g)
    {
        var list = new List<OracleInput>();
        var file = Path.ChangeExtension(g.Path, ".samples");
        if (!File.Exists(file)) return list;
        int n = 0;
        foreach (var raw in File.ReadLines(file))
        {
            n++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            var octets = new List<byte>();
            for (int i = 0; i < line.Length;)
            {
                if (char.IsWhiteSpace(line[i])) { i++; continue; }
                if (line[i] == '"')
                {
                    int end = line.IndexOf('"', i + 1);
                    if (end < 0) throw new FormatException($"{file}:{n}: a string without its closing quote");
                    octets.AddRange(Encoding.ASCII.GetBytes(line.Substring(i + 1, end - i - 1)));
                    i = end + 1;
                    continue;
                }
                if (i + 1 >= line.Length || !Uri.IsHexDigit(line[i]) || !Uri.IsHexDigit(line[i + 1]))
                    throw new FormatException($"{file}:{n}: '{line[i..]}' is not two hex digits");
                octets.Add(byte.Parse(line.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            list.Add(new OracleInput($"sample-line-{n}", octets.ToArray()));
        }
        return list;
    }

    /// <summary>Octets mostly zero: random fields that still pass most `valid: 0` rules.</summary>
    private static Gen<byte[]> Sparse(int min, int max) =>
        from n in Gen.Choose(min, max)
        from b in Gen.ArrayOf(Gen.Frequency((3, Gen.Constant((byte)0)), (2, Gen.Choose(0, 255).Select(x => (byte)x))), n)
        select b;

    private static byte[] Octets(ulong v, int width, bool be)
    {
        var b = new byte[width];
        Put(b, 0, width, v, be);
        return b;
    }

    private static Gen<byte[]> Bytes(int min, int max) =>
        from n in Gen.Choose(min, max)
        from b in Gen.ArrayOf(Gen.Choose(0, 255).Select(x => (byte)x), n)
        select b;

    private static Gen<uint> U4 => Gen.Choose(int.MinValue, int.MaxValue).Select(x => unchecked((uint)x));

    private static readonly ulong[] Interesting = { 0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff };

    /// <summary>Offsets where a change is most telling: the start of the input and, for libxc, each record's type and length.</summary>
    private static int[] Hotspots(GeneratedGrammar g, byte[] data)
    {
        var spots = Enumerable.Range(0, Math.Min(data.Length, 48)).ToList();
        if (Path.GetFileName(g.Path) == "libxc.ksy")
        {
            foreach (var at in Streams.RecordOffsets(data))
                for (int i = 0; i < 24 && at + i < data.Length; i++) spots.Add((int)at + i);
        }
        if (Path.GetFileName(g.Path) == "hvm_context.ksy")
        {
            // Each descriptor, and the first octets of its body.
            foreach (var r in VcpuStates.Records(data))
                for (int i = 0; i < 16 && r.Offset + i < data.Length; i++) spots.Add(r.Offset + i);
        }
        return spots.Distinct().ToArray();
    }

    private static Gen<(string What, byte[] Data)> Mutation(byte[] data, int[] hot)
    {
        Gen<int> Offset() => data.Length == 0 ? Gen.Constant(0) : Gen.Frequency((3, Gen.Elements(hot)), (1, Gen.Choose(0, data.Length - 1)));
        var flip =
            from at in Offset()
            from bit in Gen.Choose(0, 7)
            select ($"bit {bit} of octet {at} flipped", With(data, d => { if (at < d.Length) d[at] ^= (byte)(1 << bit); }));
        var value =
            from at in Offset()
            from v in Gen.Elements(Interesting)
            from width in Gen.Elements(1, 2, 4, 8)
            from be in Gen.Elements(false, true)
            select ($"u{width}{(be ? "be" : "le")} {v:x} at {at}", With(data, d => Put(d, at, width, v, be)));
        var truncate =
            from n in Gen.Frequency((1, Gen.Choose(0, Math.Max(0, data.Length - 1))), (2, Offset()))
            select ($"cut to {n} octets", data.AsSpan(0, Math.Min(n, data.Length)).ToArray());
        var tail =
            from n in Offset()
            from rest in Bytes(1, 40)
            select ($"random {rest.Length} octets after {n}", data.AsSpan(0, Math.Min(n, data.Length)).ToArray().Concat(rest).ToArray());
        var append =
            from rest in Bytes(1, 16)
            select ($"{rest.Length} octets appended", data.Concat(rest).ToArray());
        var twoFlips =
            from a in flip
            from at in Offset()
            select (a.Item1 + $", octet {at} inverted", With(a.Item2, d => { if (at < d.Length) d[at] ^= 0xff; }));
        return Gen.Frequency((4, flip), (4, value), (2, truncate), (2, tail), (1, append), (2, twoFlips));
    }

    private static byte[] With(byte[] data, Action<byte[]> change)
    {
        var copy = (byte[])data.Clone();
        change(copy);
        return copy;
    }

    private static void Put(byte[] d, int at, int width, ulong v, bool be)
    {
        for (int i = 0; i < width && at + i < d.Length; i++)
            d[at + i] = (byte)(v >> (8 * (be ? width - 1 - i : i)));
    }

    // ------------------------------------------------------------ libxc

    /// <summary>libxl streams around small libxc samples: PV and HVM, both byte orders, with and without emulator records.</summary>
    private static List<OracleInput> Libxl()
    {
        var list = new List<OracleInput>();
        foreach (var guest in new[] { GuestKind.Pv, GuestKind.Hvm })
        foreach (var be in new[] { false, true })
        {
            var libxc = SampleBytes(new SampleOptions { Guest = guest, Version = 3, BigEndian = be, MemoryBytes = 16 << 10, PagesPerRecord = 2, Vcpus = 1 });
            var emulator = guest == GuestKind.Hvm
                ? new[] { Containers.XenstoreData(2, 0, new[] { "physmap/1/start_addr", "f0000000", "physmap/1/size", "800000" }, be),
                          Containers.EmulatorContext(2, 0, Enumerable.Range(0, 37).Select(i => (byte)i).ToArray(), be) }
                : Array.Empty<byte[]>();
            list.Add(new OracleInput($"libxl-{guest}-{(be ? "be" : "le")}".ToLowerInvariant(), Containers.Libxl(libxc, be, legacy: guest == GuestKind.Pv, emulator)));
        }
        return list;
    }

    /// <summary>
    /// Legacy images of random domains (PV and HVM) rendered for both toolstack
    /// widths by the tests' legacy writer, each read with its params (the
    /// toolstack's word size, PV or not); the grammar reads up to the END chunk.
    /// </summary>
    private static List<OracleInput> Legacy(ulong seed)
    {
        var domains = LegacyImage.Domains().Sample(6, new Rnd(seed + 5), 12)
            .Select(d => d with { XlConfig = null, HvmContextLength = 16, DeviceModelLength = 8 }).ToList();
        domains.Add(LegacyConverterTests.VectorCases().First(c => c.Name == "pv32-w32").Domain);
        domains.Add(LegacyConverterTests.VectorCases().First(c => c.Name == "hvm-w64").Domain with { XlConfig = null });
        var list = new List<OracleInput>();
        for (int i = 0; i < domains.Count; i++)
            foreach (var bits in new[] { 32, 64 })
                list.Add(new OracleInput($"legacy#{i}-{(domains[i].Pv ? "pv" : "hvm")}-w{bits}", LegacyImage.Render(domains[i], bits), new object[] { (byte)(bits / 8), domains[i].Pv }));
        return list;
    }

    /// <summary>xl save files: a v2 domain with a text or JSON configuration, in both byte orders, and a legacy one.</summary>
    private static List<OracleInput> Xl()
    {
        var libxc = SampleBytes(new SampleOptions { Guest = GuestKind.Hvm, Version = 3, MemoryBytes = 16 << 10, PagesPerRecord = 2, Vcpus = 1 });
        var libxl = Containers.Libxl(libxc, false, false, Containers.EmulatorContext(2, 0, new byte[] { 1, 2, 3 }));
        return new List<OracleInput>
        {
            new("xl-text", Containers.Xl(libxl, "name = \"guest\"\nmemory = 1024\n", json: false)),
            new("xl-json", Containers.Xl(libxl, "{ \"c_info\": { \"name\": \"guest\" } }", json: true)),
            new("xl-be", Containers.Xl(libxl, "name = \"guest\"\n", json: false, bigEndian: true)),
            new("xl-no-config", Containers.Xl(libxl, null, json: false)),
            new("xl-legacy", Containers.Xl(new byte[] { 0, 0, 0x10, 0, 0, 0, 0, 0, 0xAA, 0xBB }, "name = \"old\"\n", json: false, v2: false)),
        };
    }

    private static List<OracleInput> Libxc(ulong seed)
    {
        var list = new List<OracleInput>();
        foreach (var guest in new[] { GuestKind.Pv, GuestKind.Hvm })
        foreach (var version in new[] { 2u, 3u })
        foreach (var be in new[] { false, true })
        {
            var o = new SampleOptions { Guest = guest, Version = version, BigEndian = be, MemoryBytes = 64 << 10, PagesPerRecord = 4, Vcpus = 1 };
            list.Add(new OracleInput($"sample-{guest}-v{version}-{(be ? "be" : "le")}".ToLowerInvariant(), SampleBytes(o)));
        }
        var samples =
            (from guest in Gen.Elements(GuestKind.Pv, GuestKind.Hvm)
             from version in Gen.Elements(2u, 3u)
             from be in Gen.Elements(false, true)
             from pages in Gen.Choose(2, 12)
             from perRecord in Gen.Choose(1, 5)
             from vcpus in Gen.Choose(1, 2)
             select new SampleOptions { Guest = guest, Version = version, BigEndian = be, MemoryBytes = pages * 4096L, PagesPerRecord = perRecord, Vcpus = vcpus })
            .Sample(12 * Scale, new Rnd(seed), 50);
        for (int i = 0; i < samples.Length; i++) list.Add(new OracleInput($"sample#{i}", SampleBytes(samples[i])));
        var streams =
            (from version in Gen.Elements(2u, 3u)
             from be in Gen.Elements(false, true)
             from domain in Gen.Elements(DomainType.X86Pv, DomainType.X86Hvm)
             from n in Gen.Choose(0, 5)
             from bodies in Gen.ArrayOf(RoundTripTests.BodyGen(version), n)
             select Streams.Of(domain, version, be, bodies))
            .Sample(40 * Scale, new Rnd(seed + 1), 50);
        for (int i = 0; i < streams.Length; i++) list.Add(new OracleInput($"records#{i}", streams[i]));
        return list;
    }

    /// <summary>
    /// Streams built octet by octet: valid headers (or nearly), records of any
    /// type with bodies of any length, mostly zero octets, PAGE_DATA with pfn
    /// entries of every page type; padding right or not; END last.
    /// </summary>
    private static Gen<byte[]> LibxcStructured =>
        from version in Gen.Elements(2u, 3u, 3u, 1u)
        from be in Gen.Elements(false, true)
        from domain in Gen.Frequency((4, Gen.Elements(1u, 2u)), (2, Gen.Elements(3u, 4u)), (1, Gen.Elements(0u, 5u)))
        from pageShift in Gen.Frequency((6, Gen.Constant(12)), (1, Gen.Choose(10, 31)))
        from n in Gen.Choose(0, 6)
        from records in Gen.ArrayOf(LibxcRecord(be), n)
        from end in Gen.Frequency((8, Gen.Constant(Streams.Raw(0, Array.Empty<byte>(), be))), (1, Sparse(0, 12).Select(b => Streams.Raw(0, b, be))), (1, Gen.Constant(Array.Empty<byte>())))
        select new[]
        {
            Octets(ulong.MaxValue, 8, true), Octets(0x58454e46, 4, true), Octets(version, 4, true), Octets(be ? 1UL : 0, 2, true), new byte[6],
            Octets(domain, 4, be), Octets((ulong)pageShift, 2, be), new byte[2], Octets(4, 4, be), Octets(19, 4, be),
        }.Concat(records).Append(end).SelectMany(b => b).ToArray();

    private static Gen<byte[]> LibxcRecord(bool be) =>
        from type in Gen.Frequency((8, Gen.Choose(1, 0x12).Select(t => (uint)t)), (1, Gen.Choose(0x13, 0x40).Select(t => (uint)t)), (1, Gen.Choose(0, 0x40).Select(t => 0x80000000u + (uint)t)))
        from body in Gen.Frequency(
            (3, Sparse(0, 40)),
            (2, Gen.Elements(0, 8, 16, 24, 32, 48, 4096).SelectMany(len => Sparse(len, len))),
            (2, PageDataBody(be)))
        from length in Gen.Frequency((12, Gen.Constant(body.Length)), (1, Gen.Choose(0, body.Length + 16)))
        from badPad in Gen.Frequency((12, Gen.Constant(false)), (1, Gen.Constant(true)))
        select With(Streams.Raw(type, body, be, length), r => { if (badPad && r.Length > 8 + body.Length) r[^1] = 0x5a; });

    private static Gen<byte[]> PageDataBody(bool be) =>
        from count in Gen.Choose(0, 4)
        from entries in Gen.ArrayOf(
            from type in Gen.Choose(0, 15)
            from pfn in Gen.Frequency((3, Gen.Choose(0, 0xffff).Select(x => (ulong)x)), (1, U4.Select(x => (ulong)x << 20)))
            from reserved in Gen.Frequency((9, Gen.Constant(0UL)), (1, Gen.Choose(1, 255).Select(x => (ulong)x)))
            select ((ulong)type << 60) | (reserved << 52) | (pfn & 0xfffffffffffffUL), count)
        from extraPages in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Elements(-1, 1)))
        let pages = Math.Max(0, entries.Count(e => (e >> 60) < 13) + extraPages)
        select Octets((ulong)count, 4, be).Concat(new byte[4]).Concat(entries.SelectMany(e => Octets(e, 8, be))).Concat(new byte[pages * 4096]).ToArray();

    private static byte[] SampleBytes(SampleOptions o)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, o);
        return ms.ToArray();
    }

    // ------------------------------------------------------------ vCPU state

    /// <summary>
    /// HVM contexts: those of HVM samples of 1 to 3 vcpus, blobs with the older
    /// forms of CPU (1016 and 1024 octets), and blobs of random records of
    /// every kind at every length Xen wrote (unknown typecodes among them).
    /// </summary>
    private static List<OracleInput> HvmContexts(ulong seed)
    {
        var list = new List<OracleInput>();
        for (int vcpus = 1; vcpus <= 3; vcpus++)
            list.Add(new OracleInput($"sample-{vcpus}-vcpus", VcpuStates.HvmContextOf(new SampleOptions { MemoryBytes = 64 << 10, PagesPerRecord = 16, Vcpus = vcpus })));
        foreach (int length in new[] { 1016, 1024 })
            list.Add(new OracleInput($"cpu-{length}", VcpuStates.Blob(VcpuStates.HeaderRecord(), VcpuStates.Record(FormatGen.Xen.Hvm.SaveType.Cpu, 0, VcpuStates.CpuBody(length)), VcpuStates.EndRecord())));
        var blobs = VcpuStates.BlobGen(knownOnly: false).Sample(ModelCount, new Rnd(seed), 50);
        for (int i = 0; i < blobs.Length; i++) list.Add(new OracleInput($"records#{i}", blobs[i]));
        return list;
    }

    /// <summary>
    /// PV contexts, each read with its guest width: a PV sample's (64-bit), a
    /// 32-bit one, random ones of either width; and contexts read with the
    /// other width or an unknown one.
    /// </summary>
    private static List<OracleInput> PvVcpus(ulong seed)
    {
        object[] Width(byte w) => new object[] { w };
        var list = new List<OracleInput>();
        var sample = VcpuStates.PvContextsOf(VcpuStates.Small);
        for (int v = 0; v < sample.Length; v++) list.Add(new OracleInput($"sample-vcpu{v}", sample[v], Width(8)));
        var c32 = new FormatGen.Xen.Pv.PvVcpu { Context = VcpuStates.Context32() }.ToArray(4);
        list.Add(new OracleInput("context-32", c32, Width(4)));
        var random = VcpuStates.PvContextGen().Sample(ModelCount / 4, new Rnd(seed), 50);
        for (int i = 0; i < random.Length; i++) list.Add(new OracleInput($"random#{i}-w{random[i].Width}", random[i].Context, Width(random[i].Width)));
        list.Add(new OracleInput("64-bit-read-as-32", sample[0], Width(4)));
        list.Add(new OracleInput("32-bit-read-as-64", c32, Width(8)));
        list.Add(new OracleInput("width-2", c32, Width(2)));
        return list;
    }

    // ------------------------------------------------------------ tlv

    private static List<OracleInput> Tlv(GeneratedGrammar g, ulong seed)
    {
        var list = new List<OracleInput> { new("behaviour-sample", GeneratedBehaviourTests.Sample) };
        var flagged = (byte[])GeneratedBehaviourTests.Sample.Clone();
        flagged[6] = 0x30; flagged[9] = 3; flagged[10] = 0; flagged[8] = 1; // the rule-message test's input
        list.Add(new OracleInput("behaviour-rules", flagged));
        list.Add(new OracleInput("items-99", ManyTextItems(99)));
        list.Add(new OracleInput("items-120", ManyTextItems(120)));

        var item = Gen.OneOf(
            Gen.Choose(1, 1000).Select(v => g.New("Number", ("Value", (uint)v))),
            Bytes(0, 12).Select(b => g.New("Text", ("Chars", (ReadOnlyMemory<byte>)b))),
            from key in Gen.Choose(3, 255)
            from b in Bytes(0, 9)
            select g.New("ItemValueUnknown", ("Key", g.Enum("Tag", (ulong)key)), ("Bytes", (ReadOnlyMemory<byte>)b)))
            .Select(v => g.New("Item", ("Value", v)));
        var tlv =
            from n in Gen.Choose(0, 8)
            from items in Gen.ArrayOf(item, n)
            from flags in Gen.Choose(0, 15)
            from crc in U4
            select g.Write(g.New("Tlv", ("Flags", (ushort)flags), ("Items", items), ("Crc", crc)));
        var models = tlv.Sample(ModelCount, new Rnd(seed), 50);
        for (int i = 0; i < models.Length; i++) list.Add(new OracleInput($"model#{i}", models[i]));
        return list;
    }

    /// <summary>"TLV1" (mostly), a count near the number of items, items of any tag and length with padding right or not, a crc.</summary>
    private static Gen<byte[]> TlvStructured =>
        from magic in Gen.Frequency((9, Gen.Constant(new byte[] { 0x54, 0x4c, 0x56, 0x31 })), (1, Sparse(4, 4)))
        from n in Gen.Choose(0, 6)
        from items in Gen.ArrayOf(
            from tag in Gen.Choose(0, 3)
            from value in Gen.Frequency((2, Sparse(0, 8)), (2, Gen.Choose(1, 1000).Select(v => Octets((ulong)v, 4, false))))
            from length in Gen.Frequency((8, Gen.Constant(value.Length)), (1, Gen.Choose(0, 12)))
            from pad in Gen.Frequency((8, Gen.Constant((byte)0)), (1, Gen.Constant((byte)1)))
            select new[] { (byte)tag, (byte)length }.Concat(value).Concat(Enumerable.Repeat(pad, (4 - (value.Length + 2) % 4) % 4)).ToArray(), n)
        from count in Gen.Frequency((8, Gen.Constant(n)), (1, Gen.Choose(0, 8)))
        from flags in Gen.Frequency((6, Gen.Choose(0, 15)), (1, Gen.Choose(0, 0xffff)))
        from crc in Sparse(0, 4)
        select magic.Concat(Octets((ulong)count, 2, false)).Concat(Octets((ulong)flags, 2, false)).Concat(items.SelectMany(i => i)).Concat(crc).ToArray();

    /// <summary>"TLV1", n two-octet text items (as GeneratedBehaviourTests builds them), crc 0.</summary>
    internal static byte[] ManyTextItems(int n)
    {
        var data = new List<byte> { 0x54, 0x4c, 0x56, 0x31, (byte)n, (byte)(n >> 8), 0, 0 };
        for (int i = 0; i < n; i++) data.AddRange(new byte[] { 2, 2, 65, 66 });
        data.AddRange(new byte[] { 0, 0, 0, 0 });
        return data.ToArray();
    }

    // ------------------------------------------------------------ frame

    private static List<OracleInput> Frame(GeneratedGrammar g, ulong seed)
    {
        var list = new List<OracleInput>
        {
            new("behaviour-be-v2", GeneratedBehaviourTests.FrameBytes(true, 2)),
            new("behaviour-le-v2", GeneratedBehaviourTests.FrameBytes(false, 2)),
            new("behaviour-le-v1", GeneratedBehaviourTests.FrameBytes(false, 1)),
        };
        var u2 = Gen.Choose(0, 0xffff).Select(x => (ushort)x);
        var payload = Gen.OneOf(
            U4.Select(v => g.New("Counter", ("Value", v))),
            from a in u2 from b in u2 select g.New("Pair", ("A", a), ("B", b)),
            from key in Gen.Elements(0, 3, 4, 0x7f, 0xff)
            from b in Bytes(4, 4)
            select g.New("HeaderPayloadUnknown", ("Key", (byte)key), ("Bytes", (ReadOnlyMemory<byte>)b)));
        // Cells: all but the last have a kind other than 15; the last has kind 15 (repeat-until _.last).
        var cell = Gen.Choose(0, 0xefff).Select(r => g.New("Cell", ("Raw", (ushort)r)));
        var frame =
            from options in Gen.Elements((byte)0, (byte)1)
            from version in Gen.Choose(0, 3)
            from p in payload
            from word in U4
            from extra in u2
            from n in Gen.Choose(0, 6)
            from cells in Gen.ArrayOf(cell, n)
            from last in Gen.Choose(0, 0xfff)
            let header = g.New("Header", ("Options", options), ("Version", (byte)version), ("Payload", p))
            let body = g.New("Body", ("Word", word), ("Extra", version >= 2 ? (object)extra : null), ("Cells", cells.Append(g.New("Cell", ("Raw", (ushort)(0xf000 | last)))).ToArray()))
            select g.Write(g.New("Frame", ("Header", header), ("Body", body)));
        var models = frame.Sample(ModelCount, new Rnd(seed), 50);
        for (int i = 0; i < models.Length; i++) list.Add(new OracleInput($"model#{i}", models[i]));
        return list;
    }

    /// <summary>Headers of any options, version and kind; bodies in either byte order with cells that end (kind 15) or run out.</summary>
    private static Gen<byte[]> FrameStructured =>
        from options in Gen.Frequency((6, Gen.Elements(0, 1)), (1, Gen.Choose(2, 255)))
        from version in Gen.Choose(0, 4)
        from kind in Gen.Choose(0, 3)
        from payload in Sparse(4, 4)
        from word in Sparse(4, 4)
        from extra in Sparse(0, 2)
        from n in Gen.Choose(0, 6)
        from cells in Gen.ArrayOf(Gen.Choose(0, 0xffff), n)
        from last in Gen.Frequency((4, Gen.Choose(0xf000, 0xffff)), (1, Gen.Constant(-1)))
        let be = (options & 1) == 1
        select new byte[] { (byte)options, (byte)version, (byte)kind }.Concat(payload).Concat(word).Concat(extra)
            .Concat(cells.Append(last).Where(c => c >= 0).SelectMany(c => Octets((ulong)c, 2, be))).ToArray();
}

