using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace FormatGen.Corpus;

/// <summary>One real file tried against one grammar, and what came of it (<see cref="Outcomes"/>).</summary>
internal sealed record FileResult(string Path, long Size, string Outcome, string? Detail, double? Seconds, bool? KaitaiParses);

/// <summary>Everything measured for one grammar of the corpus.</summary>
internal sealed class GrammarResult
{
    public required string Grammar { get; init; }
    public string? Id { get; set; }
    public bool KaitaiAccepts { get; set; }
    public string? KaitaiError { get; set; }
    public string[] Imports { get; set; } = Array.Empty<string>();
    /// <summary>kaitai-refuses, refused, crashed, does-not-compile, timeout, worker-died, ok, not-run.</summary>
    public string Status { get; set; } = "not-run";
    public List<DiagnosticRow> Diagnostics { get; set; } = new();
    /// <summary>The distinct features the refusal names (<see cref="Features.Of"/>).</summary>
    public List<string> Features { get; set; } = new();
    /// <summary>Every error of the refusal is FG0002, FG0011, FG0017 or FG0021 (a key or feature named as unsupported, or the grammar's mistake named).</summary>
    public bool RefusalNamesFeatures { get; set; }
    public string[]? CompileErrors { get; set; }
    public string? Detail { get; set; }
    public bool RootParams { get; set; }
    public double? GenerateSeconds { get; set; }
    public int Candidates { get; set; }
    public List<FileResult> Files { get; set; } = new();
    public List<string> Notes { get; set; } = new();
    /// <summary>The grammar's file (its diagnostics may be in the grammars it imports).</summary>
    public string? Path { get; set; }

    /// <summary>The errors of the refusal: in the grammar and in the grammars it imports, which it cannot be generated without.</summary>
    public List<DiagnosticRow> Errors() => Diagnostics.Where(d => d.Severity == "Error").ToList();

    public int Count(params string[] outcomes) => Files.Count(f => outcomes.Contains(f.Outcome));
    public int Tried => Files.Count(f => Outcomes.Compared.Contains(f.Outcome));
    public int Agreed => Count(Outcomes.Agree);
    /// <summary>Files compared that Kaitai parses.</summary>
    public int KaitaiParsed => Files.Count(f => f.KaitaiParses == true && Outcomes.Compared.Contains(f.Outcome));
    /// <summary>Files were compared, and every one agreed (identical trees, or both refused).</summary>
    public bool AgreesOnAll => Tried > 0 && Agreed == Tried;
}

/// <summary>What a file's comparison can come to.</summary>
internal static class Outcomes
{
    /// <summary>Both parsed it and the trees are equal field by field.</summary>
    public const string Identical = "identical";
    /// <summary>Both refused it (Kaitai's error; our Read throws or our Validate reports an error).</summary>
    public const string BothRefuse = "both-refuse";
    /// <summary>Both parsed it, the trees differ.</summary>
    public const string Disagree = "disagree";
    /// <summary>Kaitai parses it, our Read throws.</summary>
    public const string OursRefuses = "ours-refuses";
    /// <summary>Kaitai refuses it, our Read parses it and our Validate reports no error.</summary>
    public const string KaitaiRefuses = "kaitai-refuses";
    /// <summary>Our Read or Validate threw something other than an FgException, or the worker died in it.</summary>
    public const string OursCrash = "ours-crash";
    /// <summary>Our Read or Validate did not finish within the time-out.</summary>
    public const string OursTimeout = "timeout-ours";

    /// <summary>Not compared: a known limit of Kaitai's JS runtime (docs/kaitai-oracle.md).</summary>
    public const string KaitaiLimit = "kaitai-limit";
    /// <summary>Not compared: parse.js did not answer in time.</summary>
    public const string KaitaiTimeout = "timeout-kaitai";
    /// <summary>Not compared: parse.js failed (out of memory, a tree too big for JSON).</summary>
    public const string KaitaiFailed = "kaitai-failed";

    public static readonly string[] Agree = { Identical, BothRefuse };
    public static readonly string[] Compared = { Identical, BothRefuse, Disagree, OursRefuses, KaitaiRefuses, OursCrash, OursTimeout };
}

/// <summary>The feature a refusal names, with the grammar's own names taken out so refusals can be counted together.</summary>
internal static class Features
{
    private static readonly (Regex Pattern, string Replacement)[] Rules =
    {
        (new Regex(@"^instances/[^/]+/", RegexOptions.CultureInvariant), "instances/*/"),
        (new Regex(@" \('[^']*'\)", RegexOptions.CultureInvariant), ""),
        (new Regex(@"^Reading '_\.[^']*' of a repeated '[^']*'", RegexOptions.CultureInvariant), "Reading '_.X' of a repeated field"),
        (new Regex(@"^'[^']*' \(([^)]*)\): from _root and _parent", RegexOptions.CultureInvariant), "Reading $1 through _root/_parent: from _root and _parent"),
        (new Regex(@"^'io: [^']*' \(only ", RegexOptions.CultureInvariant), "'io: X._io' (only "),
        (new Regex(@"^A parse instance of type '[^']*', which reads", RegexOptions.CultureInvariant), "A parse instance of a type which reads"),
        (new Regex(@"^Using type '[^']*' of another grammar, which reads", RegexOptions.CultureInvariant), "Using a type of another grammar which reads"),
    };

    /// <summary>Generated and grammar names in other diagnostics.</summary>
    private static readonly (Regex Pattern, string Replacement)[] Names =
    {
        (new Regex("'[^']*'", RegexOptions.CultureInvariant), "'…'"),
        (new Regex(@"\b(types?|enum) (?!of\b)[A-Za-z_][A-Za-z0-9_]*", RegexOptions.CultureInvariant), "$1 …"),
        (new Regex(@"\bI[A-Z][A-Za-z0-9]*", RegexOptions.CultureInvariant), "I…"),
    };

    public static bool NamesFeature(DiagnosticRow d) => d.Id is "FG0002" or "FG0011" or "FG0017" or "FG0021";

    private static readonly Regex KaitaiParamType = new(@"^([us][1248](le|be)?|f[48](le|be)?|b[0-9]+|str|strz|bytes|bool|struct|io|any)(\[\])?$", RegexOptions.CultureInvariant);

    public static string Of(DiagnosticRow d)
    {
        string text;
        if (d.Id == "FG0002" && Regex.Match(d.Message, "^Key '(.+?)' is not supported by FormatGen(.*)$", RegexOptions.CultureInvariant) is { Success: true } k)
            text = "key '" + Normalize(k.Groups[1].Value) + "'" + k.Groups[2].Value;
        else if (d.Id == "FG0017")
            text = "Grammars import each other (an import cycle)";
        else if (d.Id == "FG0021")
            text = "A type that contains itself whatever its input says (no input holds one)";
        else if (d.Id == "FG0011")
            text = Normalize(Regex.Replace(d.Message, " is not supported by FormatGen$", "", RegexOptions.CultureInvariant));
        else
            // Other diagnostics name the grammar's own names: keep the shape of the message.
            text = Names.Aggregate(d.Message, (t, r) => r.Pattern.Replace(t, r.Replacement));
        return d.Id + " " + text;
    }

    private static string Normalize(string s)
    {
        foreach (var (pattern, replacement) in Rules) s = pattern.Replace(s, replacement);
        if (Regex.Match(s, "^A parameter of type '([^']*)'$", RegexOptions.CultureInvariant) is { Success: true } p && !KaitaiParamType.IsMatch(p.Groups[1].Value))
            s = "A parameter of a user type";
        return Regex.Replace(s, @"^Reading (a list of )?type [A-Za-z_][A-Za-z0-9_]* through", "Reading $1a user type through", RegexOptions.CultureInvariant);
    }
}
