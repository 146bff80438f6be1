using System;
using System.IO;
using System.Linq;
using FormatGen.Generator.Emit;
using FormatGen.Generator.Model;
using FormatGen.Generator.Syntax;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace FormatGen.Generator;

/// <summary>
/// Turns each <c>.ksy</c> grammar given as an AdditionalFile into models,
/// readers, writers and validators. Pipeline: text -> grammar tree -> checked
/// model -> source; each stage's value is equatable, so unchanged grammars
/// are served from the cache. A grammar that imports others is built with
/// them (meta/imports): editing one regenerates it and its importers only.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class FormatGenGenerator : IIncrementalGenerator
{
    public const string ParseStep = "FormatGen.Parse";
    public const string UnitStep = "FormatGen.Unit";
    public const string ModelStep = "FormatGen.Model";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var rootNamespace = context.AnalyzerConfigOptionsProvider.Select(static (o, _) =>
            o.GlobalOptions.TryGetValue("build_property.RootNamespace", out var ns) && !string.IsNullOrWhiteSpace(ns) ? ns : "FormatGen.Generated");

        // Per grammar, from its AdditionalFiles item: FormatGenNamespace (overrides meta/-fg-namespace)
        // and FormatGenWriters="false" (readers and validators only).
        var grammars = context.AdditionalTextsProvider
            .Where(static f => f.Path.EndsWith(".ksy", StringComparison.OrdinalIgnoreCase))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) =>
            {
                var (f, provider) = pair;
                var file = KsyParser.Parse(f.Path, f.GetText(ct)?.ToString());
                var options = provider.GetOptions(f);
                if (options.TryGetValue("build_metadata.AdditionalFiles.FormatGenNamespace", out var ns) && !string.IsNullOrWhiteSpace(ns))
                    file = file with { Namespace = ns.Trim() };
                if (options.TryGetValue("build_metadata.AdditionalFiles.FormatGenWriters", out var writers) && string.Equals(writers.Trim(), "false", StringComparison.OrdinalIgnoreCase))
                    file = file with { Writers = false };
                return file;
            })
            .WithTrackingName(ParseStep);

        // Each grammar with the grammars it imports: a unit changes only when one of its files does.
        var units = grammars
            .Combine(grammars.Collect())
            .Select(static (pair, _) => Imports.Resolve(pair.Left, pair.Right))
            .WithTrackingName(UnitStep);

        var models = units
            .Combine(rootNamespace)
            .Select(static (pair, _) => ModelBuilder.Build(pair.Left, pair.Right))
            .WithTrackingName(ModelStep);

        // The runtime the generated code calls: missing or older than this generator is one clear error per
        // grammar, instead of a cascade of CS0246 in generated files.
        var runtime = context.CompilationProvider.Select(static (c, _) =>
            c.ReferencedAssemblyNames.FirstOrDefault(a => a.Name == "FormatGen.Runtime")?.Version?.ToString() ?? "");

        context.RegisterSourceOutput(models.Combine(runtime), static (spc, pair) =>
        {
            var (model, runtimeVersion) = pair;
            foreach (var d in model.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            if (model.Diagnostics.Count > 0 || model.Blocked) return;
            var needed = typeof(FormatGenGenerator).Assembly.GetName().Version ?? new Version(0, 0);
            var minimum = new Version(needed.Major, needed.Minor, Math.Max(0, needed.Build));
            if (runtimeVersion.Length == 0 || Version.TryParse(runtimeVersion, out var have) && have < minimum)
            {
                spc.ReportDiagnostic(DiagInfo.Of(DiagnosticDescriptors.RuntimeMissing, new Loc(model.File, 1, 1), Path.GetFileName(model.File),
                    minimum.ToString(3), runtimeVersion.Length == 0 ? "does not reference it" : "references " + runtimeVersion).ToDiagnostic());
                return;
            }
            foreach (var (hint, source) in Emitter.Emit(model))
                spc.AddSource(hint, SourceText.From(source, System.Text.Encoding.UTF8));
        });
    }
}
