using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// Inputs the fuzzers (fuzz/run.sh) found a crash with, kept as regression cases:
/// each is read as its harness reads it and must come out as the library's own
/// errors (the generator: diagnostics), never an exception.
/// </summary>
public class FuzzFindingTests
{
    private static string Dir(string target) => Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "FuzzFindings", target);

    private static TheoryData<string> Findings(string target)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Dir(target)).OrderBy(f => f, StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    public static TheoryData<string> GrammarFindings() => Findings("grammar");

    public static TheoryData<string> ContainerFindings() => Findings("containers");

    public static TheoryData<string> GeneratedFindings() => Findings("generated");

    [Theory]
    [MemberData(nameof(GrammarFindings))]
    public void A_grammar_the_fuzzer_broke_the_generator_with_is_diagnostics(string name)
    {
        // As the harness: a grammar, and after a line "---8<---" a second one it may import.
        var text = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(Dir("grammar"), name)));
        var parts = text.Split("---8<---\n", 2);
        var grammars = new System.Collections.Generic.List<AdditionalText> { new GeneratorHarness.Text("/fuzz/main.ksy", parts[0]) };
        if (parts.Length > 1) grammars.Add(new GeneratorHarness.Text("/fuzz/other.ksy", parts[1]));
        var (run, _) = GeneratorHarness.Generate(grammars);
        Assert.Null(run.Exception);
        Assert.Contains(run.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Theory]
    [MemberData(nameof(ContainerFindings))]
    public void An_image_the_fuzzer_broke_a_reader_with_is_read_or_refused(string name)
    {
        var input = File.ReadAllBytes(Path.Combine(Dir("containers"), name));
        // As the harness: every record, its summary written into a small buffer writer.
        try
        {
            using var r = new FormatGen.Xen.XenReader(new MemoryStream(input));
            while (r.MoveNext(FormatGen.Xen.RecordSummary.NeedsModel))
                if (r.Kind == FormatGen.Xen.XenItemKind.Record)
                    FormatGen.Xen.RecordSummary.Write(r, new System.Buffers.ArrayBufferWriter<byte>());
        }
        catch (FormatGen.Runtime.FgException) { }
    }

    [Fact]
    public void Text_read_from_invalid_UTF8_that_cannot_be_written_back_is_the_writers_error_naming_the_length()
    {
        // What the generated target's findings came to: 255 octets that are not UTF-8 read as 255 U+FFFD,
        // 765 octets written, which a u1 length cannot hold. (The findings' inputs were for the grammar
        // before its tree was added; this keeps the case whatever the grammar becomes.)
        var name = FormatGen.Fuzz.Grammars.Name.Read(Enumerable.Repeat((byte)0xff, 256).ToArray());
        var e = Assert.Throws<FormatGen.Runtime.FgWriteException>(() => name.ToArray(verify: false));
        Assert.Equal("len: cannot hold 765, the octets of 'text' (at most 255)", e.Message);
    }

    [Theory]
    [MemberData(nameof(GeneratedFindings))]
    public void An_input_the_fuzzer_broke_a_generated_reader_or_writer_with_is_read_and_written_or_refused(string name)
    {
        var input = File.ReadAllBytes(Path.Combine(Dir("generated"), name));
        // As the harness: validated, read, summarised, written back (or refused by the writer).
        _ = FormatGen.Fuzz.Grammars.FuzzTarget.Validate(input);
        try
        {
            var model = FormatGen.Fuzz.Grammars.FuzzTarget.Read(input);
            _ = model.Summary();
            try { _ = model.ToArray(verify: false); }
            catch (FormatGen.Runtime.FgWriteException e) { Assert.Contains("cannot hold", e.Message); }
        }
        catch (FormatGen.Runtime.FgException) { }
    }
}
