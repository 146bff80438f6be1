using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using FormatGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace FormatGen.Tests;

/// <summary>Runs the generator with CSharpGeneratorDriver, as a build would.</summary>
internal static class GeneratorHarness
{
    public sealed class Text(string path, string content) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(content);
    }

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = tpa.Where(p => Path.GetFileName(p).StartsWith("System", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(FormatGen.Runtime.FgReader).Assembly.Location));
        return refs.ToImmutableArray();
    });

    public static CSharpCompilation Compilation(params string[] sources) => CSharpCompilation.Create("Generated",
        sources.Select(s => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest))),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

    public static GeneratorDriver Driver(params AdditionalText[] texts) => CSharpGeneratorDriver.Create(
        new[] { new FormatGenGenerator().AsSourceGenerator() },
        texts,
        new CSharpParseOptions(LanguageVersion.Latest),
        null,
        new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generates from one grammar; returns generated files, generator diagnostics and the compiled result's errors.</summary>
    public static (GeneratorRunResult Run, Compilation Output) Generate(string grammarPath, string grammar, params string[] extraSources)
    {
        var driver = Driver(new Text(grammarPath, grammar));
        driver = driver.RunGeneratorsAndUpdateCompilation(Compilation(extraSources), out var output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }

    public static IEnumerable<Diagnostic> Errors(Compilation c) => c.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
}
