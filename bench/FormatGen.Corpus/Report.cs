using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace FormatGen.Corpus;

/// <summary>The run's results: summary.md (also printed), results.json, grammars.tsv and files.tsv.</summary>
internal static class Report
{
    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Pct(int n, int of) => of == 0 ? "-" : (100.0 * n / of).ToString("F1", CultureInfo.InvariantCulture) + "%";

    public static void Write(string dir, Program.RunInfo run, List<GrammarResult> results)
    {
        File.WriteAllText(Path.Combine(dir, "summary.md"), Summary(run, results));
        File.WriteAllText(Path.Combine(dir, "results.json"), JsonSerializer.Serialize(new { run, grammars = results }, Json.Indented));
        var g = new StringBuilder("grammar\tkaitai\tours\trefusal_names_features\tfeatures\tfirst_error\tcandidates\ttried\tkaitai_parses\tidentical\tboth_refuse\tdisagree\tours_refuses\tkaitai_refuses\tours_crash_or_timeout\tnot_compared\n");
        foreach (var r in results)
            g.Append(string.Join('\t', r.Grammar, r.KaitaiAccepts ? "ok" : "refuses", r.Status, r.Features.Count == 0 ? "" : r.RefusalNamesFeatures ? "yes" : "no",
                Cell(string.Join("; ", r.Features)), Cell(r.CompileErrors?.FirstOrDefault() ?? (r.Status is "crashed" or "timeout" or "worker-died" ? r.Detail : null) ?? ""),
                N(r.Candidates), N(r.Tried), N(r.KaitaiParsed), N(r.Count(Outcomes.Identical)), N(r.Count(Outcomes.BothRefuse)), N(r.Count(Outcomes.Disagree)),
                N(r.Count(Outcomes.OursRefuses)), N(r.Count(Outcomes.KaitaiRefuses)), N(r.Count(Outcomes.OursCrash, Outcomes.OursTimeout)),
                N(r.Files.Count - r.Tried))).Append('\n');
        File.WriteAllText(Path.Combine(dir, "grammars.tsv"), g.ToString());
        var f = new StringBuilder("grammar\tfile\tsize\toutcome\tkaitai_parses\tseconds\tdetail\n");
        foreach (var r in results)
            foreach (var x in r.Files)
                f.Append(string.Join('\t', r.Grammar, x.Path, x.Size.ToString(CultureInfo.InvariantCulture), x.Outcome, x.KaitaiParses switch { true => "yes", false => "no", null => "" },
                    x.Seconds?.ToString("F2", CultureInfo.InvariantCulture) ?? "", Cell(x.Detail ?? ""))).Append('\n');
        File.WriteAllText(Path.Combine(dir, "files.tsv"), f.ToString());
    }

    private static string Cell(string s) => s.Replace('\t', ' ').Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ');

    private static string Md(string s) => Cell(s).Replace("|", "\\|", StringComparison.Ordinal);

    public static string Summary(Program.RunInfo run, List<GrammarResult> results)
    {
        var sb = new StringBuilder();
        var accepted = results.Where(r => r.KaitaiAccepts).ToList();
        var ok = accepted.Where(r => r.Status == "ok").ToList();
        var refused = accepted.Where(r => r.Status == "refused").ToList();
        var withFiles = ok.Where(r => r.Tried > 0).ToList();
        var files = ok.SelectMany(r => r.Files).ToList();
        int tried = ok.Sum(r => r.Tried);
        int C(params string[] outcomes) => files.Count(x => outcomes.Contains(x.Outcome));

        sb.Append(CultureInfo.InvariantCulture, $"# Corpus measurement\n\nRun {run.Date}, FormatGen {run.Commit}; corpus {run.Label ?? run.Corpus}; ");
        sb.Append(CultureInfo.InvariantCulture, $"up to {run.FilesPerGrammar} real files a grammar, none over {run.MaxFileSize >> 20} MiB, from {run.FilesLookedAt} files under {string.Join(' ', run.Roots)}; {run.Minutes:F0} min.\n\n");

        sb.Append("## Headline\n\n| measure | value |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| grammars agreeing with Kaitai on every real file tried / grammars with real files | {withFiles.Count(r => r.AgreesOnAll)} / {withFiles.Count} ({Pct(withFiles.Count(r => r.AgreesOnAll), withFiles.Count)}) |\n");
        int kaitaiParsed = ok.Sum(r => r.KaitaiParsed);
        var withParsed = withFiles.Where(r => r.KaitaiParsed > 0).ToList();
        sb.Append(CultureInfo.InvariantCulture, $"| grammars parsing identically every real file Kaitai parses / grammars with real files Kaitai parses | {withParsed.Count(r => r.Count(Outcomes.Identical) == r.KaitaiParsed)} / {withParsed.Count} ({Pct(withParsed.Count(r => r.Count(Outcomes.Identical) == r.KaitaiParsed), withParsed.Count)}) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| files agreeing (identical tree, or both refuse) / files tried | {C(Outcomes.Agree)} / {tried} ({Pct(C(Outcomes.Agree), tried)}) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| files parsed identically / files tried that Kaitai parses | {C(Outcomes.Identical)} / {kaitaiParsed} ({Pct(C(Outcomes.Identical), kaitaiParsed)}) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| files parsed by both with identical trees / files tried | {C(Outcomes.Identical)} / {tried} ({Pct(C(Outcomes.Identical), tried)}) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| grammars generated and compiling / grammars Kaitai accepts | {ok.Count} / {accepted.Count} ({Pct(ok.Count, accepted.Count)}) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| grammars generated, or refused naming only unsupported features / grammars Kaitai accepts | {ok.Count + refused.Count(r => r.RefusalNamesFeatures)} / {accepted.Count} ({Pct(ok.Count + refused.Count(r => r.RefusalNamesFeatures), accepted.Count)}) |\n\n");

        sb.Append("## Grammars\n\n| | grammars |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| in the corpus | {results.Count} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| refused by Kaitai's compiler (left out of what follows) | {results.Count - accepted.Count} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| accepted by Kaitai's compiler | {accepted.Count} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| generated by us and compiling | {ok.Count} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| refused by us, every error naming an unsupported key or feature (FG0002, FG0011, FG0017, FG0021) | {refused.Count(r => r.RefusalNamesFeatures)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| refused by us with other diagnostics too (valid Kaitai: a gap or a bug) | {refused.Count(r => !r.RefusalNamesFeatures)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| broken: the generator crashed | {accepted.Count(r => r.Status == "crashed")} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| broken: generated C# does not compile | {accepted.Count(r => r.Status == "does-not-compile")} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| broken: the generator timed out or its process died | {accepted.Count(r => r.Status is "timeout" or "worker-died")} |\n\n");

        sb.Append("## Real files\n\n| | count |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| generated grammars whose root has params (not applicable to files) | {ok.Count(r => r.RootParams)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| generated grammars with no real file found | {ok.Count(r => !r.RootParams && r.Candidates == 0)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| generated grammars with real files found but none compared (the note in the table below says why) | {ok.Count(r => !r.RootParams && r.Candidates > 0 && r.Tried == 0)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| generated grammars with real files compared | {withFiles.Count} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| files tried (compared) | {tried} |\n");
        foreach (var (label, outcome) in new[]
                 {
                     ("identical: both parse, trees equal", Outcomes.Identical), ("both refuse", Outcomes.BothRefuse),
                     ("disagree: both parse, trees differ", Outcomes.Disagree), ("Kaitai parses, our Read refuses", Outcomes.OursRefuses),
                     ("Kaitai refuses, ours parses with no error", Outcomes.KaitaiRefuses), ("our reader crashed", Outcomes.OursCrash),
                     ("our reader timed out", Outcomes.OursTimeout),
                     ("not compared: a known limit of Kaitai's JS runtime", Outcomes.KaitaiLimit), ("not compared: Kaitai timed out", Outcomes.KaitaiTimeout),
                     ("not compared: parse.js failed", Outcomes.KaitaiFailed),
                 })
            sb.Append(CultureInfo.InvariantCulture, $"| {label} | {C(outcome)} |\n");
        var other = files.Count(x => !Outcomes.Compared.Contains(x.Outcome) && x.Outcome is not (Outcomes.KaitaiLimit or Outcomes.KaitaiTimeout or Outcomes.KaitaiFailed));
        if (other > 0) sb.Append(CultureInfo.InvariantCulture, $"| other (unreadable, unclassified, comparison failed) | {other} |\n");
        sb.Append('\n');

        var features = refused.SelectMany(r => r.Features.Select(f => (Feature: f, r.Grammar)))
            .GroupBy(x => x.Feature)
            .Select(x => (Feature: x.Key, Grammars: x.Select(y => y.Grammar).Distinct().Count(),
                Diagnostics: refused.Sum(r => r.Errors().Count(d => Features.Of(d) == x.Key)),
                Only: refused.Count(r => r.Features.Count == 1 && r.Features[0] == x.Key)))
            .OrderByDescending(x => x.Grammars).ThenByDescending(x => x.Diagnostics).ThenBy(x => x.Feature, StringComparer.Ordinal).ToList();
        sb.Append("## Refusals by feature\n\nGrammars whose refusal names the feature (a grammar counts once per feature), its diagnostics in all, and the grammars refused for that feature alone.\n\n");
        sb.Append("| feature | grammars | diagnostics | only reason |\n|---|---|---|---|\n");
        foreach (var x in features) sb.Append(CultureInfo.InvariantCulture, $"| {Md(x.Feature)} | {x.Grammars} | {x.Diagnostics} | {x.Only} |\n");
        sb.Append('\n');

        sb.Append("## Per grammar\n\n| grammar | Kaitai | ours | refused for / first error | files tried | Kaitai parses | identical | both refuse | disagree | ours refuses | Kaitai refuses | crash, time-out | not compared |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in results)
        {
            var why = r.Status switch
            {
                "refused" => string.Join("; ", r.Features),
                "does-not-compile" => r.CompileErrors?.FirstOrDefault() ?? "",
                "crashed" or "timeout" or "worker-died" => Worker.Clip(r.Detail ?? "", 200),
                "ok" when r.RootParams => "root has params: not applicable to files",
                "ok" when r.Notes.Count > 0 => string.Join("; ", r.Notes),
                "ok" when r.Candidates == 0 => "no real file found",
                "kaitai-refuses" => r.KaitaiError ?? "",
                _ => "",
            };
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Grammar} | {(r.KaitaiAccepts ? "ok" : "refuses")} | {r.Status} | {Md(Worker.Clip(why, 300))} | ");
            if (r.Files.Count == 0) sb.Append("| | | | | | | | |\n");
            else
                sb.Append(CultureInfo.InvariantCulture, $"{r.Tried} | {r.KaitaiParsed} | {r.Count(Outcomes.Identical)} | {r.Count(Outcomes.BothRefuse)} | {r.Count(Outcomes.Disagree)} | {r.Count(Outcomes.OursRefuses)} | {r.Count(Outcomes.KaitaiRefuses)} | {r.Count(Outcomes.OursCrash, Outcomes.OursTimeout)} | {r.Files.Count - r.Tried} |\n");
        }
        return sb.ToString();
    }
}
