using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json;
using FormatGen.Runtime;
using FormatGen.Tests;
using Microsoft.CodeAnalysis;

namespace FormatGen.Corpus;

/// <summary>
/// One grammar, in its own process (the parent kills it on a time-out, and
/// a stack overflow or a runaway allocation ends only it): our generator on
/// the grammar and its imports, then each real file through Kaitai's reader
/// and ours, compared by the oracle's <see cref="OracleComparer"/>. Prints
/// one JSON line per step (<see cref="WorkEvent"/>).
/// </summary>
internal static class Worker
{
    private static readonly StreamWriter Out = new(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };

    private static void Emit(WorkEvent e) => Out.WriteLine(JsonSerializer.Serialize(e, Json.Options));

    public static int Run(string requestPath)
    {
        try
        {
            var request = JsonSerializer.Deserialize<WorkRequest>(File.ReadAllText(requestPath), Json.Options)
                          ?? throw new InvalidOperationException("empty request");
            var (status, assembly) = Generate(request);
            if (status == "ok" && !request.RootParams && request.Files.Length > 0) Files(request, assembly!);
            Emit(new WorkEvent("done"));
            return 0;
        }
        catch (Exception e)
        {
            Emit(new WorkEvent("note", Detail: "worker failed: " + Clip(e.ToString(), 4000)));
            return 3;
        }
    }

    // ---------------------------------------------------------------- generation

    private static (string Status, byte[]? Assembly) Generate(WorkRequest request)
    {
        var clock = Stopwatch.StartNew();
        var texts = new List<AdditionalText> { new GeneratorHarness.Text(request.Grammar, File.ReadAllText(request.Grammar)) };
        foreach (var import in request.Imports.Distinct(StringComparer.Ordinal))
            if (import != request.Grammar && File.Exists(import))
                texts.Add(new GeneratorHarness.Text(import, File.ReadAllText(import)));
        var driver = GeneratorHarness.Driver(texts.ToArray());
        driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out var output, out _);
        var run = driver.GetRunResult().Results.Single();
        if (run.Exception is not null)
        {
            Emit(new WorkEvent("generated", Status: "crashed", Detail: Clip(run.Exception.ToString(), 4000), Seconds: clock.Elapsed.TotalSeconds));
            return ("crashed", null);
        }
        var diagnostics = run.Diagnostics.Select(Row).ToArray();
        if (run.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            Emit(new WorkEvent("generated", Status: "refused", Diagnostics: diagnostics, Seconds: clock.Elapsed.TotalSeconds));
            return ("refused", null);
        }
        var image = new MemoryStream();
        var emit = output.Emit(image);
        string? Keep(string? dir)
        {
            if (dir is null) return null;
            var kept = Path.Combine(dir, Path.GetFileNameWithoutExtension(request.Grammar));
            Directory.CreateDirectory(kept);
            foreach (var tree in output.SyntaxTrees)
                if (tree.FilePath.Length > 0)
                    File.WriteAllText(Path.Combine(kept, Path.GetFileName(tree.FilePath)), tree.ToString());
            return kept;
        }
        Keep(request.KeepAllDir);
        if (!emit.Success)
        {
            var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            // The generated sources, to read the errors in.
            var kept = Keep(request.KeepDir);
            Emit(new WorkEvent("generated", Status: "does-not-compile", Diagnostics: diagnostics,
                Errors: errors.Take(10).Select(CompileError).Append($"({errors.Count} error(s) in all)").ToArray(),
                Detail: kept is null ? null : "generated sources kept in " + kept, Seconds: clock.Elapsed.TotalSeconds));
            return ("does-not-compile", null);
        }
        Emit(new WorkEvent("generated", Status: "ok", Diagnostics: diagnostics, Seconds: clock.Elapsed.TotalSeconds));
        return ("ok", image.ToArray());
    }

    private static DiagnosticRow Row(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        return new DiagnosticRow(d.Id, d.Severity.ToString(), d.GetMessage(System.Globalization.CultureInfo.InvariantCulture),
            span.Path.Length == 0 ? null : span.Path, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1);
    }

    /// <summary>"File.g.cs(12,5): CS0102: message | the line".</summary>
    private static string CompileError(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var text = d.Location.SourceTree?.GetText().Lines is { } lines && span.StartLinePosition.Line < lines.Count
            ? lines[span.StartLinePosition.Line].ToString().Trim()
            : "";
        return $"{Path.GetFileName(span.Path)}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {d.Id}: "
               + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture) + (text.Length == 0 ? "" : " | " + Clip(text, 300));
    }

    // ---------------------------------------------------------------- real files

    private static void Files(WorkRequest request, byte[] assembly)
    {
        // Kaitai's side (parse.js) reads absolute imports from the corpus root, as Kaitai does.
        if (request.CorpusRoot is not null) Environment.SetEnvironmentVariable("KAITAI_IMPORT_ROOT", request.CorpusRoot);
        GeneratedGrammar grammar;
        try
        {
            grammar = Load(request, assembly);
        }
        catch (Exception e)
        {
            Emit(new WorkEvent("note", Detail: "cannot load the generated reader: " + Clip((e as TargetInvocationException)?.InnerException?.Message ?? e.Message, 2000)));
            return;
        }
        var report = new OracleReport();
        var comparer = new OracleComparer(grammar, report);
        var batch = new List<OracleInput>();
        long bytes = 0;
        foreach (var path in request.Files)
        {
            byte[] data;
            try
            {
                data = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Emit(new WorkEvent("file", File: path, Outcome: "unreadable", Detail: e.Message));
                continue;
            }
            if (batch.Count > 0 && (batch.Count >= request.BatchFiles || bytes + data.Length > request.BatchBytes))
            {
                Batch(request, comparer, report, grammar, batch);
                batch.Clear();
                bytes = 0;
            }
            batch.Add(new OracleInput(path, data));
            bytes += data.Length;
        }
        if (batch.Count > 0) Batch(request, comparer, report, grammar, batch);
    }

    /// <summary>
    /// The oracle's view of the reader just generated and compiled (with the
    /// grammar's imports as Kaitai resolves them). <see cref="GeneratedGrammar.Compile"/>
    /// would generate again, finding imports beside each file only, so the
    /// generated assembly is handed to its constructor instead; should that
    /// constructor change, Compile is the fallback.
    /// </summary>
    private static GeneratedGrammar Load(WorkRequest request, byte[] image)
    {
        var ctor = typeof(GeneratedGrammar).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, null,
            new[] { typeof(string), typeof(string), typeof(Assembly), typeof(Type) }, null);
        var info = GrammarInfo.Load(request.Grammar, Path.GetDirectoryName(request.Grammar)!);
        if (ctor is null || info.Id is null) return GeneratedGrammar.Compile(request.Grammar);
        var assembly = new AssemblyLoadContext("corpus:" + Path.GetFileName(request.Grammar), isCollectible: true).LoadFromStream(new MemoryStream(image));
        // Types of imported grammars live in the same assembly: the root is the one carrying this grammar's id.
        var root = GeneratedGrammar.RootOf(assembly, info.Id)
            ?? throw new InvalidOperationException($"{request.Grammar}: no generated root type of '{info.Id}' with Read(ReadOnlyMemory<byte>)"
                                                   + (assembly.GetTypes().Any(t => t.GetCustomAttribute<FgKsyNameAttribute>()?.Path == info.Id) ? " (its Read takes more parameters: the root has params)" : ""));
        return (GeneratedGrammar)ctor.Invoke(new object[] { request.Grammar, info.Id, assembly, root });
    }

    private static void Batch(WorkRequest request, OracleComparer comparer, OracleReport report, GeneratedGrammar grammar, List<OracleInput> inputs)
    {
        Emit(new WorkEvent("kaitai", Batch: inputs.Select(i => i.Name).ToArray()));
        KaitaiRun run;
        try
        {
            run = KaitaiNode.Parse(request.Grammar, inputs);
        }
        catch (TimeoutException e)
        {
            // parse.js's own time-out (5 minutes a batch): not tried again, one by one, at that price.
            foreach (var input in inputs)
                Emit(new WorkEvent("file", File: input.Name, Outcome: "timeout-kaitai", Detail: Clip(e.Message, 1000)));
            return;
        }
        catch (Exception e) when (inputs.Count > 1)
        {
            // One file may have failed parse.js (memory, a tree too big for JSON): one at a time.
            Emit(new WorkEvent("note", Detail: "Kaitai failed on a batch, trying its files one by one: " + Clip(e.Message, 500)));
            foreach (var input in inputs) Batch(request, comparer, report, grammar, new List<OracleInput> { input });
            return;
        }
        catch (Exception e)
        {
            Emit(new WorkEvent("file", File: inputs[0].Name, Outcome: "kaitai-failed", Detail: Clip(e.Message, 1000)));
            return;
        }
        for (int i = 0; i < inputs.Count; i++) Check(comparer, report, grammar, inputs[i], run.Results[i]);
    }

    private static void Check(OracleComparer comparer, OracleReport report, GeneratedGrammar grammar, OracleInput input, KaitaiResult kaitai)
    {
        bool kaitaiParses = kaitai.Error is null;
        Emit(new WorkEvent("file-start", File: input.Name, KaitaiParses: kaitaiParses));
        var clock = Stopwatch.StartNew();
        int disagreements = report.Disagreements.Count, bothParsed = report.BothParsed, bothRefused = report.BothRefused,
            flagged = report.OursFlaggedKaitaiParsed, kaitaiCannot = report.KaitaiCannot.Values.Sum();
        try
        {
            comparer.Check(input, kaitai);
        }
        catch (Exception e)
        {
            Emit(new WorkEvent("file", File: input.Name, Outcome: "compare-failed", Detail: Clip(e.ToString(), 2000), Seconds: clock.Elapsed.TotalSeconds, KaitaiParses: kaitaiParses));
            return;
        }
        finally
        {
            report.DisagreeingInputs.Clear();
        }
        string outcome;
        string? detail = null;
        if (report.Disagreements.Count > disagreements)
        {
            var text = report.Disagreements[^1];
            detail = Clip(text, 3000);
            outcome = text.Contains("our Read crashed", StringComparison.Ordinal) || text.Contains("our Validate crashed", StringComparison.Ordinal) ? "ours-crash"
                : text.Contains("Kaitai parses the input; our Read throws", StringComparison.Ordinal) ? "ours-refuses"
                : text.Contains("Kaitai refuses the input", StringComparison.Ordinal) ? "kaitai-refuses"
                : "disagree";
        }
        else if (report.BothParsed > bothParsed)
        {
            outcome = "identical";
            if (report.OursFlaggedKaitaiParsed > flagged) detail = "our Validate reports errors on it: " + Ours(grammar, input);
        }
        else if (report.BothRefused > bothRefused)
        {
            outcome = "both-refuse";
            detail = "Kaitai: " + Clip(kaitai.Error?.ToString() ?? "", 500) + "; ours: " + Ours(grammar, input);
        }
        else if (report.KaitaiCannot.Values.Sum() > kaitaiCannot)
        {
            outcome = "kaitai-limit";
            detail = string.Join("; ", report.KaitaiCannot.Keys);
        }
        else outcome = "unclassified";
        Emit(new WorkEvent("file", File: input.Name, Outcome: outcome, Detail: detail, Seconds: clock.Elapsed.TotalSeconds, KaitaiParses: kaitaiParses));
    }

    /// <summary>Our first error on the input, for the record.</summary>
    private static string Ours(GeneratedGrammar grammar, OracleInput input)
    {
        try
        {
            grammar.Read(input.Data);
        }
        catch (FgException e)
        {
            return Clip(e.Message, 500);
        }
        catch (Exception e)
        {
            return "Read throws " + e.GetType().Name + ": " + Clip(e.Message, 300);
        }
        try
        {
            var first = grammar.Validate(input.Data.AsSpan()).FirstOrDefault(v => v.Severity == FgSeverity.Error);
            return first is null ? "(no error)" : Clip(first.ToString(), 500);
        }
        catch (Exception e)
        {
            return "Validate throws " + e.GetType().Name + ": " + Clip(e.Message, 300);
        }
    }

    public static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}
