using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace FormatGen.Runtime;

public enum FgSeverity
{
    /// <summary>Noted, not a fault (an unknown optional record that was skipped).</summary>
    Info,
    /// <summary>A fault that receivers tolerate (the errata).</summary>
    Warning,
    /// <summary>The input breaks the format.</summary>
    Error,
}

/// <summary>One broken rule: which, where, what was expected and what was found.</summary>
public sealed record FgViolation(
    string Rule,
    FgSeverity Severity,
    string FieldPath,
    long Offset,
    string Expected,
    string Actual,
    string Description)
{
    /// <summary>Index of the record (stream element), or -1 outside a stream.</summary>
    public long RecordIndex { get; init; } = -1;

    /// <summary>Name of the record type, when known.</summary>
    public string? RecordName { get; init; }

    /// <summary>What the stream's elements are called in messages ("record", "chunk").</summary>
    public string RecordNoun { get; init; } = "record";

    /// <summary>How many more elements of the same repeat break the same rule (reported once, here).</summary>
    public long More { get; init; }

    public override string ToString()
    {
        var sev = Severity switch { FgSeverity.Error => "error", FgSeverity.Warning => "warning", _ => "info" };
        var where = RecordIndex >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{RecordNoun} {RecordIndex}{(RecordName is null ? "" : " (" + RecordName + ")")}, ")
            : "";
        // A value computed from fields (an instance) has a name but no offset of its own.
        var at = Offset < 0 ? "value " + FieldPath : string.Create(CultureInfo.InvariantCulture, $"field {FieldPath}, offset {Offset} (0x{Offset:x})");
        return sev + ": " + Rule + ": " + where + at + ": " + Explanation;
    }

    /// <summary>What is wrong, in words: the description, then what was expected and found (and how many more alike).</summary>
    public string Explanation
    {
        get
        {
            var more = More > 0 ? string.Create(CultureInfo.InvariantCulture, $"{More} more element(s) alike") : "";
            var found = Expected.Length == 0 && Actual.Length == 0
                ? (more.Length > 0 ? "(" + more + ")" : "")
                : "(expected " + Expected + ", found " + Actual + (more.Length > 0 ? "; " + more : "") + ")";
            return Description.Length > 0 && found.Length > 0 ? Description + " " + found : Description + found;
        }
    }
}

/// <summary>
/// Collects violations while generated code reads. Generated code calls
/// <see cref="Enter"/>/<see cref="Exit"/> around nested fields so each
/// violation gets its full field path; nothing is allocated unless a rule
/// is broken.
/// </summary>
public sealed class FgValidation
{
    private readonly List<FgViolation> _items = new();
    private readonly List<string> _shapes = new();   // each item's rule and field path without indices
    private string[] _names = new string[16];
    private int[] _indices = new int[16];
    private int _depth;

    public IReadOnlyList<FgViolation> Violations => _items;

    public int Count => _items.Count;

    public bool HasErrors
    {
        get
        {
            foreach (var v in _items)
                if (v.Severity == FgSeverity.Error) return true;
            return false;
        }
    }

    public void Clear()
    {
        // Cleared before every record a stream reader reads, and mostly empty: nothing to do then.
        if (_items.Count > 0) _items.Clear();
        if (_shapes.Count > 0) _shapes.Clear();
        _depth = 0;
    }

    /// <summary>Removes violations recorded after <paramref name="count"/> (a retried parse).</summary>
    public void TruncateTo(int count)
    {
        if (_items.Count > count) _items.RemoveRange(count, _items.Count - count);
        if (_shapes.Count > count) _shapes.RemoveRange(count, _shapes.Count - count);
    }

    public void Enter(string name, int index = -1)
    {
        if (_depth == _names.Length)
        {
            Array.Resize(ref _names, _depth * 2);
            Array.Resize(ref _indices, _depth * 2);
        }
        _names[_depth] = name;
        _indices[_depth] = index;
        _depth++;
    }

    public void Exit() => _depth--;

    /// <summary>
    /// Records a broken rule. The same rule broken by further elements of one
    /// repeat (the same field path but for its indices) is one mistake: it is
    /// counted on the first violation (<see cref="FgViolation.More"/>), not repeated.
    /// </summary>
    public void Report(string rule, FgSeverity severity, string field, int index, long offset, string expected, string actual, string description)
    {
        var path = PathOf(field, index);
        var shape = ShapeOf(rule, path);
        if (path.IndexOf('[') >= 0)
            for (int i = 0; i < _items.Count; i++)
                if (_shapes[i] == shape)
                {
                    _items[i] = _items[i] with { More = _items[i].More + 1 };
                    return;
                }
        _items.Add(new FgViolation(rule, severity, path, offset, expected, actual, description));
        _shapes.Add(shape);
    }

    /// <summary>Adds a violation found outside generated code (stream-level rules).</summary>
    public void Add(FgViolation violation)
    {
        _items.Add(violation);
        _shapes.Add(ShapeOf(violation.Rule, violation.FieldPath));
    }

    private static string ShapeOf(string rule, string path)
    {
        var sb = new StringBuilder(rule.Length + path.Length + 1).Append(rule).Append(' ');
        bool inIndex = false;
        foreach (var c in path)
        {
            if (c == '[') inIndex = true;
            else if (c == ']') inIndex = false;
            else if (!inIndex) sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Stamps the violations recorded since <paramref name="from"/> with their record.</summary>
    public void StampRecord(int from, long recordIndex, string? recordName, string recordNoun = "record")
    {
        for (int i = from; i < _items.Count; i++)
            _items[i] = _items[i] with { RecordIndex = recordIndex, RecordName = recordName, RecordNoun = recordNoun };
    }

    private string PathOf(string field, int index)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _depth; i++) Append(sb, _names[i], _indices[i]);
        Append(sb, field, index);
        return sb.Length == 0 ? "(root)" : sb.ToString();
    }

    private static void Append(StringBuilder sb, string name, int index)
    {
        if (name.Length > 0)
        {
            if (sb.Length > 0) sb.Append('.');
            sb.Append(name);
        }
        if (index >= 0) sb.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
    }
}
