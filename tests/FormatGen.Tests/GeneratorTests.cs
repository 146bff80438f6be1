using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using FormatGen.Generator;
using Microsoft.CodeAnalysis;
using Xunit;

namespace FormatGen.Tests;

public class GeneratorTests
{
    private static string Grammar(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", name));

    /// <summary>The reasons of a tracked step's outputs; never empty, so assertions over them cannot pass vacuously.</summary>
    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step)
    {
        var reasons = driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.NotEmpty(reasons);
        return reasons;
    }

    [Fact]
    public void Unchanged_inputs_are_served_from_the_cache()
    {
        var text = new GeneratorHarness.Text("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc));
        var driver = GeneratorHarness.Driver(text);
        var compilation = GeneratorHarness.Compilation("class A {}");
        driver = driver.RunGenerators(compilation);
        Assert.All(Reasons(driver, FormatGenGenerator.ParseStep), r => Assert.Equal(IncrementalStepRunReason.New, r));
        // Same grammar, a different C# compilation: nothing is parsed or modelled again.
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class B {}")));
        Assert.All(Reasons(driver, FormatGenGenerator.ParseStep), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(driver, FormatGenGenerator.ModelStep), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void An_edit_that_does_not_change_the_grammar_leaves_the_model_unchanged()
    {
        var source = File.ReadAllText(RepoPaths.Libxc);
        var text = new GeneratorHarness.Text("/g/libxc.ksy", source);
        var driver = GeneratorHarness.Driver(text).RunGenerators(GeneratorHarness.Compilation());
        driver = driver.ReplaceAdditionalText(text, new GeneratorHarness.Text("/g/libxc.ksy", source + "\n# a trailing comment\n"));
        driver = driver.RunGenerators(GeneratorHarness.Compilation());
        Assert.All(Reasons(driver, FormatGenGenerator.ParseStep), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r));
        Assert.All(Reasons(driver, FormatGenGenerator.ModelStep), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void A_grammar_edit_modifies_its_model()
    {
        var source = File.ReadAllText(RepoPaths.Libxc);
        var text = new GeneratorHarness.Text("/g/libxc.ksy", source);
        var other = new GeneratorHarness.Text("/g/tlv.ksy", Grammar("tlv.ksy"));
        var driver = GeneratorHarness.Driver(text, other).RunGenerators(GeneratorHarness.Compilation());
        driver = driver.ReplaceAdditionalText(text, new GeneratorHarness.Text("/g/libxc.ksy", source.Replace("_ <= 30", "_ <= 16")));
        driver = driver.RunGenerators(GeneratorHarness.Compilation());
        var parse = Reasons(driver, FormatGenGenerator.ParseStep);
        var model = Reasons(driver, FormatGenGenerator.ModelStep);
        Assert.Contains(IncrementalStepRunReason.Modified, parse);
        Assert.Contains(IncrementalStepRunReason.Modified, model);
        // The other grammar is untouched.
        Assert.Contains(IncrementalStepRunReason.Cached, model);
    }

    /// <summary>The reason of the model step's output for each grammar file (by file name).</summary>
    private static Dictionary<string, IncrementalStepRunReason> ModelReasons(GeneratorDriver driver)
        => driver.GetRunResult().Results.Single().TrackedSteps[FormatGenGenerator.ModelStep].SelectMany(s => s.Outputs)
            .ToDictionary(o => Path.GetFileName((string)o.Value.GetType().GetProperty("File")!.GetValue(o.Value)!), o => o.Reason);

    [Fact]
    public void Editing_an_imported_grammar_regenerates_its_importers_and_nothing_else()
    {
        string G(string rel) => File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", rel));
        var kinds = new GeneratorHarness.Text("/g/common/shape_kinds.ksy", G("common/shape_kinds.ksy"));
        var vec2 = new GeneratorHarness.Text("/g/common/vec2.ksy", G("common/vec2.ksy"));
        var importer = new GeneratorHarness.Text("/g/imports.ksy", G("imports.ksy"));
        var other = new GeneratorHarness.Text("/g/tlv.ksy", G("tlv.ksy"));
        var driver = GeneratorHarness.Driver(kinds, vec2, importer, other).RunGenerators(GeneratorHarness.Compilation());
        Assert.Empty(driver.GetRunResult().Diagnostics);
        Assert.Equal(4, ModelReasons(driver).Count);

        // vec2 changes: it and its importer are built again; what it imports, and the unrelated grammar, are not.
        var vec2b = new GeneratorHarness.Text("/g/common/vec2.ksy", G("common/vec2.ksy").Replace("value: x * x + y * y", "value: x * x + y * y + 1"));
        driver = driver.ReplaceAdditionalText(vec2, vec2b).RunGenerators(GeneratorHarness.Compilation());
        var r = ModelReasons(driver);
        Assert.Equal(IncrementalStepRunReason.Modified, r["vec2.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Modified, r["imports.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Cached, r["shape_kinds.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Cached, r["tlv.ksy"]);

        // shape_kinds changes: both grammars that import it (one through the other) are built again.
        var kindsB = new GeneratorHarness.Text("/g/common/shape_kinds.ksy", G("common/shape_kinds.ksy").Replace("2: square", "2: square\n    3: star"));
        driver = driver.ReplaceAdditionalText(kinds, kindsB).RunGenerators(GeneratorHarness.Compilation());
        r = ModelReasons(driver);
        Assert.Equal(IncrementalStepRunReason.Modified, r["shape_kinds.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Modified, r["vec2.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Modified, r["imports.ksy"]);
        Assert.Equal(IncrementalStepRunReason.Cached, r["tlv.ksy"]);

        // The unrelated grammar changes: no grammar of the import chain is built again.
        var otherB = new GeneratorHarness.Text("/g/tlv.ksy", G("tlv.ksy").Replace("max: 1000", "max: 2000"));
        driver = driver.ReplaceAdditionalText(other, otherB).RunGenerators(GeneratorHarness.Compilation());
        r = ModelReasons(driver);
        Assert.Equal(IncrementalStepRunReason.Modified, r["tlv.ksy"]);
        Assert.All(new[] { "shape_kinds.ksy", "vec2.ksy", "imports.ksy" }, f => Assert.Equal(IncrementalStepRunReason.Cached, r[f]));
    }

    [Fact]
    public void A_missing_import_is_one_error_at_its_line_and_its_importers_wait_silently()
    {
        var vec2 = new GeneratorHarness.Text("/g/common/vec2.ksy", File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", "common", "vec2.ksy")));
        var importer = new GeneratorHarness.Text("/g/imports.ksy", File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", "imports.ksy")));
        // shape_kinds.ksy is not given: vec2 says so once; imports.ksy (which imports both) says so for its own import only.
        var (run, _) = GeneratorHarness.Generate(new AdditionalText[] { vec2, importer });
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, d => Assert.Equal("FG0016", d.Id));
        var byFile = run.Diagnostics.ToDictionary(d => Path.GetFileName(d.Location.GetLineSpan().Path));
        Assert.Equal(5, byFile["vec2.ksy"].Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Contains("'shape_kinds'", byFile["vec2.ksy"].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("'common/shape_kinds'", byFile["imports.ksy"].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Equal_inputs_give_equal_models_that_hold_no_roslyn_objects()
    {
        object Model() => GeneratorHarness.Driver(new GeneratorHarness.Text("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc)))
            .RunGenerators(GeneratorHarness.Compilation()).GetRunResult().Results.Single()
            .TrackedSteps[FormatGenGenerator.ModelStep].Single().Outputs.Single().Value;
        var a = Model();
        var b = Model();
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        int count = Walk(a, seen);
        Assert.True(count > 100, "walked " + count + " objects");
    }

    private static readonly Type[] Forbidden = { typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location), typeof(Diagnostic) };

    private static int Walk(object? o, HashSet<object> seen)
    {
        if (o is null || o is string || o.GetType().IsPrimitive || o.GetType().IsEnum) return 0;
        if (!o.GetType().IsValueType && !seen.Add(o)) return 0;
        var t = o.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(t)), "a pipeline model holds a " + t);
        int n = 1;
        if (o is IEnumerable e) foreach (var x in e) n += Walk(x, seen);
        foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            n += Walk(f.GetValue(o), seen);
        return n;
    }

    // ---- snapshots ----

    public static IEnumerable<object[]> SnapshotGrammars() => new[] { new object[] { "tlv.ksy" }, new object[] { "frame.ksy" } };

    /// <summary>
    /// Generated code against baselines in Baselines/&lt;grammar&gt;/. Set
    /// FORMATGEN_UPDATE_BASELINES=1 to rewrite them after an intended change.
    /// </summary>
    [Theory]
    [MemberData(nameof(SnapshotGrammars))]
    public void Generated_code_matches_its_baseline(string grammar)
    {
        var (run, output) = GeneratorHarness.Generate("/g/" + grammar, Grammar(grammar));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
        var dir = Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Baselines", Path.GetFileNameWithoutExtension(grammar));
        var generated = run.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString().Replace("\r\n", "\n"));
        if (Environment.GetEnvironmentVariable("FORMATGEN_UPDATE_BASELINES") == "1")
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.CreateDirectory(dir);
            foreach (var (hint, text) in generated) File.WriteAllText(Path.Combine(dir, hint), text);
        }
        var expectedFiles = Directory.GetFiles(dir).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedFiles, generated.Keys.OrderBy(x => x, StringComparer.Ordinal).ToArray());
        foreach (var (hint, text) in generated)
            Assert.True(File.ReadAllText(Path.Combine(dir, hint)) == text, hint + " differs from its baseline (FORMATGEN_UPDATE_BASELINES=1 rewrites it)");
    }

    [Fact]
    public void Generated_code_starts_auto_generated_and_uses_global_names()
    {
        var (run, _) = GeneratorHarness.Generate("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc));
        Assert.NotEmpty(run.GeneratedSources);
        foreach (var s in run.GeneratedSources)
        {
            var text = s.SourceText.ToString();
            Assert.StartsWith("// <auto-generated/>", text.TrimStart('\uFEFF'));
            Assert.DoesNotContain("\nusing ", text);
        }
    }

    [Fact]
    public void Generated_code_compiles_next_to_user_types_named_like_framework_types()
    {
        const string hostile = """
            namespace FormatGen.Xen.Libxc
            {
                public class System { }
                public class Span { }
                public class Stream { }
                public class ReadOnlyMemory { }
                public class FormatGen { }
            }
            namespace FormatGen.Xen.Libxc.Runtime { public class FgReader { } }
            """;
        var (run, output) = GeneratorHarness.Generate("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc), hostile);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(output));
    }

    [Fact]
    public void The_same_grammar_always_generates_the_same_text()
    {
        var a = GeneratorHarness.Generate("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc)).Run.GeneratedSources.Select(s => s.SourceText.ToString());
        var b = GeneratorHarness.Generate("/g/libxc.ksy", File.ReadAllText(RepoPaths.Libxc)).Run.GeneratedSources.Select(s => s.SourceText.ToString());
        Assert.Equal(a, b);
    }

    // ---- one test per diagnostic: the id, the exact place, the message, and only one ----

    private const string Head = "meta:\n  id: t\n  endian: le\n";

    public static IEnumerable<object[]> DiagnosticCases() => new[]
    {
        new object[] { "FG0001", "meta:\n  id: [t\n", 3, 1, "While parsing a flow sequence, did not find expected ',' or ']'." },
        new object[] { "FG0002", Head + "seq:\n  - id: a\n    size: 4\n    sise: 4\n", 7, 5, "Key 'sise' is not supported by FormatGen" },
        new object[] { "FG0003", Head + "seq:\n  - id: a\n    type: str\n    size: 2\n", 6, 11, "A str field needs 'encoding (or meta/encoding)'" },
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\n    repeat: sometimes\n", 7, 13, "Invalid value for 'repeat': expr, until or eos" },
        new object[] { "FG0005", Head + "seq:\n  - id: a\n    type: nowhere\n", 6, 11, "Type 'nowhere' is not defined" },
        new object[] { "FG0006", Head + "seq:\n  - id: a\n    type: u1\n    enum: colours\n", 7, 11, "Enum 'colours' is not defined" },
        new object[] { "FG0007", Head + "seq:\n  - id: a\n    size: (1 +\n", 6, 11, "Cannot parse expression '(1 +': unexpected end of expression" },
        new object[] { "FG0008", Head + "seq:\n  - id: a\n    size: nothing * 2\n", 6, 11, "'nothing' is not defined here" },
        new object[] { "FG0009", Head + "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: u1\n    if: a + 1\n", 9, 9, "'if: a + 1' must be a boolean, not an integer" },
        new object[] { "FG0010", Head + "seq:\n  - id: a\n    type: u1\n  - id: a\n    type: u2\n", 7, 5, "'a' is defined more than once" },
        new object[] { "FG0011", Head + "seq:\n  - id: a\n    type: u1\ninstances:\n  x:\n    pos: 0\n    type: u1\n    valid: 0\n", 11, 12, "'valid' on a parse instance is not supported by FormatGen" },
        new object[] { "FG0012", Head + "seq:\n  - id: k\n    type: u1\n  - id: b\n    size: 2\n    type:\n      switch-on: k\n      cases:\n        1: c\n        0x1: u2\ntypes:\n  c:\n    seq:\n      - id: x\n        type: u1\n", 13, 9,
            "Key '0x1' of switch 'b' is given more than once" },
        new object[] { "FG0013", Head + "seq:\n  - id: a\n    type: u1\n    -fg-stream: true\n", 5, 5, "-fg-stream marks a repeated field; 'a' is not repeated" },
        new object[] { "FG0013", Head + "seq:\n  - id: a\n    type: u1\n    -fg-handoff: true\n", 5, 5,
            "-fg-handoff marks a field read once, with an 'if' ('if: true' when it is always there): a streamed model leaves it out; 'a' has no 'if'" },
        new object[] { "FG0013", Head + "seq:\n  - id: a\n    type: u1\n    if: true\n    -fg-handoff: true\n  - id: b\n    type: u1\n", 9, 5,
            "Field 'b' follows 'a', which is handed off (-fg-handoff): the octets after it belong to another stream; mark 'b' -fg-handoff too, or move it before" },
        new object[] { "FG0013", Head + "seq:\n  - id: items\n    type: item(_index)\n    repeat: until\n    repeat-until: _.last == 1\n    -fg-stream: true\n"
            + "types:\n  item:\n    params:\n      - id: i\n        type: u4\n    seq:\n      - id: last\n        type: u1\n", 6, 11,
            "The arguments of streamed field 'items' are worked out once, before its first element: they cannot read _index ('_index')" },
        new object[] { "FG0014", Head + "seq:\n  - id: a\n    type: c(1, 2)\ntypes:\n  c:\n    seq:\n      - id: x\n        type: u1\n", 6, 11, "Type 'c' takes 0 argument(s), 2 given" },
        new object[] { "FG0015", "meta:\n  endian: le\nseq: []\n", 1, 1, "A grammar needs meta/id" },
        new object[] { "FG0016", "meta:\n  id: t\n  imports:\n    - common/nosuch\nseq: []\n", 4, 7,
            "Imported grammar 'common/nosuch' is not an AdditionalFile of this project (looked for /g/common/nosuch.ksy)" },
        new object[] { "FG0017", "meta:\n  id: t\n  imports:\n    - bad\nseq: []\n", 4, 7, "Grammars import each other: bad.ksy -> bad.ksy" },
        new object[] { "FG0021", Head + "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: t\n", 7, 5,
            "'t' contains itself whatever its input says (t.b -> t): no input is long enough to hold one; give a field on the way an 'if', or make it a repeat that may be empty" },
    };

    /// <summary>Diagnostics that need a grammar and one it imports (/g/other.ksy).</summary>
    public static IEnumerable<object[]> ImportDiagnosticCases() => new[]
    {
        new object[] { "FG0018", "meta:\n  id: t\n  imports:\n    - other\nseq: []\nenums:\n  kinds:\n    1: one\n", "meta:\n  id: other\nseq: []\nenums:\n  kinds:\n    2: two\n",
            7, 3, "'Kinds' is an enum of this grammar and of other.ksy, both in namespace FormatGen.Generated: give one of the grammars its own -fg-namespace" },
        // An enum is as wide as its own grammar reads it: another grammar cannot read it from a wider field.
        new object[] { "FG0011", "meta:\n  id: t\n  -fg-namespace: T\n  imports:\n    - other\nseq:\n  - id: k\n    type: u4\n    enum: other::kinds\n",
            "meta:\n  id: other\n  -fg-namespace: O\nseq:\n  - id: k\n    type: u1\n    enum: kinds\nenums:\n  kinds:\n    2: two\n",
            7, 5, "Reading enum 'kinds' of another grammar (byte there) from a u4 field is not supported by FormatGen" },
        // A cycle of two grammars: reported once, by the grammar whose path sorts first.
        new object[] { "FG0017", "meta:\n  id: t\n  imports:\n    - other\nseq: []\n", "meta:\n  id: other\n  imports:\n    - bad\nseq: []\n",
            4, 7, "Grammars import each other: bad.ksy -> other.ksy -> bad.ksy" },
    };

    [Theory]
    [MemberData(nameof(ImportDiagnosticCases))]
    public void Each_diagnostic_across_grammars_has_its_id_place_and_message_once(string id, string grammar, string imported, int line, int column, string message)
    {
        var (run, _) = GeneratorHarness.Generate(new AdditionalText[] { new GeneratorHarness.Text("/g/bad.ksy", grammar), new GeneratorHarness.Text("/g/other.ksy", imported) });
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal(id, d.Id);
        var span = d.Location.GetLineSpan();
        Assert.Equal("/g/bad.ksy", span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
        Assert.Equal(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(DiagnosticCases))]
    public void Each_diagnostic_has_its_id_place_and_message_once(string id, string grammar, int line, int column, string message)
    {
        var (run, _) = GeneratorHarness.Generate("/g/bad.ksy", grammar);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        var span = d.Location.GetLineSpan();
        Assert.Equal("/g/bad.ksy", span.Path);
        Assert.Equal((line, column), (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1));
        Assert.Equal(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.GeneratedSources);
    }

    public static IEnumerable<object[]> OneMistakeCases() => new[]
    {
        // A mistake the generator used to report four times, with its message wrapped twice.
        new object[] { "FG0008", Head + "seq:\n  - id: a\n    type: u1\n    if: nosuch > 1\n", 7, 9, "'nosuch' is not defined here" },
        new object[] { "FG0008", Head + "seq:\n  - id: a\n    type: u1\n    if: b > 1\n  - id: b\n    type: u1\n", 7, 9, "'b' is not defined here yet (it is read after this field)" },
        new object[] { "FG0008", Head + "seq:\n  - id: a\n    type: u1\n    if: late > 1\n  - id: b\n    type: u1\ninstances:\n  late:\n    value: b * 2\n", 7, 9, "'late' is not defined here yet (it reads 'b', read after this field)" },
        new object[] { "FG0009", Head + "seq:\n  - id: a\n    type: u1\ninstances:\n  x:\n    value: y + 1\n  y:\n    value: x * 2\n", 8, 3, "instance 'x' depends on itself" },
        new object[] { "FG0009", Head + "seq:\n  - id: a\n    type: b\n  - id: c\n    type: d\ninstances:\n  t:\n    value: 'a.z > 0 ? a : c'\ntypes:\n  b:\n    seq:\n      - id: z\n        type: u1\n  d:\n    seq:\n      - id: z\n        type: u1\n", 11, 12,
            "the branches of '?:' have no common type: type B and type D" },
        new object[] { "FG0009", Head + "seq:\n  - id: a\n    type: u1\ninstances:\n  p:\n    value: _parent.x\n", 9, 12, "'_parent.x': type t has no parent" },
        new object[] { "FG0009", Head + "seq:\n  - id: k\n    type: u1\n    enum: e\n  - id: b\n    size: 2\n    type:\n      switch-on: k\n      cases:\n        1: c\ntypes:\n  c:\n    seq:\n      - id: x\n        type: u1\nenums:\n  e:\n    1: one\n", 13, 9,
            "case '1' (an integer) cannot match 'k' (enum E)" },
        // Malformed shapes: diagnostics, never exceptions.
        new object[] { "FG0004", Head + "seq: {a: 1}\n", 4, 6, "Invalid value for 'seq': a list of fields is expected here" },
        new object[] { "FG0004", Head + "seq:\n  - id: k\n    type: u1\n  - id: b\n    size: 2\n    type:\n      switch-on: k\n      cases:\n        [1, 2]: c\ntypes:\n  c:\n    seq:\n      - id: x\n        type: u1\n", 12, 9, "Invalid value for 'value': a scalar is expected here" },
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\ninstances: [1, 2]\n", 7, 12, "Invalid value for 'instances': a mapping of names to instances is expected here" },
    };

    [Theory]
    [MemberData(nameof(OneMistakeCases))]
    public void One_mistake_is_one_readable_diagnostic(string id, string grammar, int line, int column, string message)
        => Each_diagnostic_has_its_id_place_and_message_once(id, grammar, line, column, message);

    public static IEnumerable<object[]> UnsupportedCombinations() => new[]
    {
        new object[] { "FG0011", Head + "seq:\n  - id: a\n    type: u4\n    size: 8\n", 7, 11, "'size' on an integer field is not supported by FormatGen" },
        // A value read after the type, which only an instance may read (later), used to read a field.
        new object[] { "FG0008", Head + "seq:\n  - id: items\n    type: item\n  - id: n\n    type: u1\ntypes:\n  item:\n    seq:\n      - id: body\n        size: later\n    instances:\n      later:\n        value: _parent.n\n",
            13, 15, "'_parent.n' is not defined here yet where 'item' is read (it is read after it: an instance may read it, when asked for, but not what reads the fields)" },
        // A type under a parse instance reading that instance through _parent (Kaitai reads it lazily, later).
        new object[] { "FG0008", Head + "seq:\n  - id: n\n    type: u1\ninstances:\n  whole:\n    pos: 1\n    type: item\ntypes:\n  item:\n    seq:\n      - id: a\n        type: u1\n      - id: b\n        size: _parent.whole.a\n",
            17, 15, "'_parent.whole.a' is not defined here yet: the parse instance 'whole' reads this type (an instance of it may read it, when asked for, but not what reads its fields)" },
        new object[] { "FG0011", Head + "seq:\n  - id: a\n    contents: [1]\n    size: 1\n    repeat: eos\n", 5, 5, "'contents' on a repeated field with 'size' or 'valid' is not supported by FormatGen" },
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\n    contents: [1]\n", 7, 16, "Invalid value for 'contents': 'contents' cannot be combined with 'type'" },
        new object[] { "FG0009", Head + "seq:\n  - id: a\n    type: u1\n    enum: e\n    valid: 3\nenums:\n  e:\n    1: one\n", 8, 12, "'3' (an integer) cannot be compared with field 'a' (enum E); use E members" },
        // Message templates and -fg-limit where they cannot apply.
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\n    -fg-expect: one octet\n", 7, 17, "Invalid value for '-fg-expect': it words the message of a 'valid' rule; the field has none" },
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\n    valid: 0\n    -fg-found: 'value {a'\n", 8, 16, "Invalid value for 'message template 'value {a'': a '{' without its '}'" },
        new object[] { "FG0008", Head + "seq:\n  - id: a\n    type: u1\n    valid: 0\n    -fg-found: 'value {nosuch}'\n", 8, 16, "'nosuch' is not defined here" },
        new object[] { "FG0004", Head + "seq:\n  - id: a\n    type: u1\n    -fg-limit: true\n", 5, 5, "Invalid value for '-fg-limit': the length limit applies to a field with 'size'" },
    };

    /// <summary>Combinations Kaitai allows but FormatGen does not implement yet: an error, never wrong code.</summary>
    [Theory]
    [MemberData(nameof(UnsupportedCombinations))]
    public void Unsupported_combinations_are_errors_at_their_place(string id, string grammar, int line, int column, string message)
        => Each_diagnostic_has_its_id_place_and_message_once(id, grammar, line, column, message);

    [Fact]
    public void Every_descriptor_has_a_test_case()
    {
        var ids = typeof(FormatGenGenerator).Assembly.GetType("FormatGen.Generator.DiagnosticDescriptors")!
            .GetFields(BindingFlags.Static | BindingFlags.Public).Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id).OrderBy(x => x).ToArray();
        // FG0019 (the runtime missing or too old) is a property of the project, not of a grammar: RuntimeReferenceTests.
        var tested = DiagnosticCases().Concat(ImportDiagnosticCases()).Select(c => (string)c[0]).Append("FG0019").Distinct().OrderBy(x => x).ToArray();
        Assert.Equal(ids, tested);
    }
}
