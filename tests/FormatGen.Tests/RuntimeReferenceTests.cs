using System;
using System.IO;
using System.Linq;
using FormatGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// A project with a grammar but without FormatGen.Runtime (the generator
/// package added alone, or an old runtime) gets one error per grammar that
/// says which package to add, not generated code that does not compile.
/// </summary>
public class RuntimeReferenceTests
{
    private const string Grammar = "meta:\n  id: tiny\n  endian: le\nseq:\n  - id: a\n    type: u1\n";

    private static GeneratorRunResult Run(params MetadataReference[] extra)
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = tpa.Where(p => Path.GetFileName(p).StartsWith("System", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).Concat(extra);
        var compilation = CSharpCompilation.Create("App", Array.Empty<SyntaxTree>(), refs, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var driver = GeneratorHarness.Driver(new GeneratorHarness.Text("/p/tiny.ksy", Grammar)).RunGenerators(compilation);
        return driver.GetRunResult().Results.Single();
    }

    [Fact]
    public void Without_the_runtime_one_error_names_the_package_and_nothing_is_generated()
    {
        var run = Run();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("FG0019", d.Id);
        Assert.Contains("tiny.ksy", d.GetMessage());
        Assert.Contains("add the package FormatGen", d.GetMessage());
        Assert.Contains("does not reference it", d.GetMessage());
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void With_the_runtime_the_grammar_is_generated()
    {
        var run = Run(MetadataReference.CreateFromFile(typeof(FormatGen.Runtime.FgReader).Assembly.Location));
        Assert.Empty(run.Diagnostics);
        Assert.NotEmpty(run.GeneratedSources);
    }

    [Fact]
    public void An_older_runtime_is_named_with_its_version()
    {
        // A stand-in FormatGen.Runtime assembly of version 0.1.
        var old = CSharpCompilation.Create("FormatGen.Runtime",
            new[] { CSharpSyntaxTree.ParseText("[assembly: System.Reflection.AssemblyVersion(\"0.1.0.0\")]") },
            new[] { MetadataReference.CreateFromFile(typeof(object).Assembly.Location) },
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var run = Run(old.ToMetadataReference());
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("FG0019", d.Id);
        Assert.Contains("references 0.1.0.0", d.GetMessage());
    }
}

/// <summary>Generated enums are as wide as the integers their grammar reads them from.</summary>
public class EnumWidthTests
{
    [Theory]
    [InlineData("u1", "byte")]
    [InlineData("u2", "ushort")]
    [InlineData("u4", "uint")]
    [InlineData("u8", "ulong")]
    [InlineData("s1", "sbyte")]
    [InlineData("s4", "int")]
    [InlineData("b3", "byte")]
    public void An_enum_takes_the_width_of_its_field(string type, string underlying)
    {
        var grammar = $"meta:\n  id: w\n  endian: le\n  bit-endian: be\nseq:\n  - id: k\n    type: {type}\n    enum: kinds\nenums:\n  kinds:\n    1: one\n    2: two\n";
        var (run, output) = GeneratorHarness.Generate("/g/w.ksy", grammar);
        Assert.Empty(run.Diagnostics);
        var enums = run.GeneratedSources.Single(s => s.HintName.EndsWith("Enums.g.cs", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("public enum Kinds : " + underlying, enums);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Members_and_signed_uses_widen_it()
    {
        // A member beyond a u1, and a u1 with a negative member (signed: an sbyte would not hold 200).
        var wide = "meta:\n  id: w\n  endian: le\nseq:\n  - id: k\n    type: u1\n    enum: kinds\nenums:\n  kinds:\n    1: one\n    300: big\n";
        var signed = "meta:\n  id: w\n  endian: le\nseq:\n  - id: k\n    type: u1\n    enum: kinds\nenums:\n  kinds:\n    -1: minus\n    200: plus\n";
        foreach (var (g, underlying) in new[] { (wide, "ushort"), (signed, "short") })
        {
            var (run, _) = GeneratorHarness.Generate("/g/w.ksy", g);
            Assert.Contains("public enum Kinds : " + underlying, run.GeneratedSources.Single(s => s.HintName.EndsWith("Enums.g.cs", StringComparison.Ordinal)).SourceText.ToString());
        }
    }
}

/// <summary>Corners of the generated API found in review.</summary>
public class GeneratedApiCornerTests
{
    [Fact]
    public void An_enums_table_of_names_cannot_clash_with_a_type()
    {
        var (run, _) = GeneratorHarness.Generate("/g/c.ksy", "meta:\n  id: c\nseq: []\ntypes:\n  kind_names:\n    seq: []\nenums:\n  kind:\n    1: one\n");
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("FG0010", d.Id);
        Assert.Contains("KindNames (the table of names of enum 'kind')", d.GetMessage());
    }

    [Fact]
    public void Parameters_named_like_the_out_parameters_of_TryRead_still_compile()
    {
        var grammar = "meta:\n  id: p\n  endian: le\nparams:\n  - id: model\n    type: u1\n  - id: bytes_consumed\n    type: u1\nseq:\n  - id: a\n    type: u1\n";
        var (run, output) = GeneratorHarness.Generate("/g/p.ksy", grammar);
        Assert.Empty(run.Diagnostics);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    private delegate System.Collections.Generic.IReadOnlyList<FormatGen.Runtime.FgViolation> ValidateFn(ReadOnlySpan<byte> data);

    [Fact]
    public void Validate_reports_what_Read_refuses_after_a_type_that_keeps_no_slack()
    {
        // A fixed-size header (read nowhere inside a size): octets after it are not its own.
        var grammar = "meta:\n  id: r\n  endian: le\nseq:\n  - id: h\n    type: header\ntypes:\n  header:\n    seq:\n      - id: a\n        type: u2\n";
        var (run, output) = GeneratorHarness.Generate("/g/r.ksy", grammar);
        Assert.Empty(run.Diagnostics);
        var ms = new MemoryStream();
        Assert.True(output.Emit(ms).Success);
        var asm = System.Reflection.Assembly.Load(ms.ToArray());
        var header = asm.GetTypes().Single(t => t.Name == "Header");
        var data = new byte[] { 1, 2, 3 };
        var read = header.GetMethods().Single(m => m.Name == "Read" && m.GetParameters().Length == 1);
        var e = Assert.Throws<System.Reflection.TargetInvocationException>(() => read.Invoke(null, new object[] { (ReadOnlyMemory<byte>)data }));
        Assert.Equal("trailing-data", ((FormatGen.Runtime.FgException)e.InnerException!).Rule);
        var validate = header.GetMethods().Single(m => m.Name == "Validate").CreateDelegate<ValidateFn>();
        Assert.Equal("trailing-data", Assert.Single(validate(data)).Rule);
        Assert.Empty(validate(data.AsSpan(0, 2)));
    }
}
