using System.Text.Json;
using System.Text.Json.Serialization;

namespace FormatGen.Corpus;

/// <summary>What the parent asks a worker process: one grammar, the grammars it imports, the real files to try.</summary>
internal sealed record WorkRequest(
    string Grammar,
    string[] Imports,
    string[] Files,
    bool RootParams,
    string? KeepDir,
    int BatchFiles,
    long BatchBytes,
    string? KeepAllDir = null,
    string? CorpusRoot = null);

/// <summary>One generator diagnostic, with where it is.</summary>
internal sealed record DiagnosticRow(string Id, string Severity, string Message, string? File, int Line, int Column);

/// <summary>
/// One line a worker prints: <c>generated</c> (status refused, crashed,
/// does-not-compile or ok), <c>kaitai</c> (Kaitai starts on a batch of
/// files), <c>file-start</c>, <c>file</c> (the outcome for one file),
/// <c>note</c>, <c>done</c>.
/// </summary>
internal sealed record WorkEvent(
    string Event,
    string? Status = null,
    DiagnosticRow[]? Diagnostics = null,
    string[]? Errors = null,
    string? Detail = null,
    string? File = null,
    string? Outcome = null,
    double? Seconds = null,
    string[]? Batch = null,
    bool? KaitaiParses = null);

internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true };
}
