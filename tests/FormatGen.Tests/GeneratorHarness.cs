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
        => Generate(new[] { new Text(grammarPath, grammar) }, extraSources);

    /// <summary>Generates from several grammars (a grammar and those it imports), as one project would.</summary>
    public static (GeneratorRunResult Run, Compilation Output) Generate(IEnumerable<AdditionalText> grammars, params string[] extraSources)
    {
        var driver = Driver(grammars.ToArray());
        driver = driver.RunGeneratorsAndUpdateCompilation(Compilation(extraSources), out var output, out _);
        return (driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>A grammar file and every grammar it imports, directly or not (meta/imports relative to each file).</summary>
    public static List<AdditionalText> WithImports(string path)
    {
        var result = new List<AdditionalText>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string p)
        {
            p = System.IO.Path.GetFullPath(p);
            if (!seen.Add(p) || !File.Exists(p)) return;
            var text = File.ReadAllText(p);
            result.Add(new Text(p, text));
            var yaml = new YamlDotNet.RepresentationModel.YamlStream();
            yaml.Load(new StringReader(text));
            if (yaml.Documents[0].RootNode is YamlDotNet.RepresentationModel.YamlMappingNode root
                && root.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("meta"), out var meta)
                && meta is YamlDotNet.RepresentationModel.YamlMappingNode m
                && m.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("imports"), out var imports)
                && imports is YamlDotNet.RepresentationModel.YamlSequenceNode list)
                foreach (var i in list.Children.OfType<YamlDotNet.RepresentationModel.YamlScalarNode>())
                    Add(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(p)!, i.Value!.TrimStart('/') + ".ksy"));
        }
        Add(path);
        return result;
    }

    public static IEnumerable<Diagnostic> Errors(Compilation c) => c.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
}
