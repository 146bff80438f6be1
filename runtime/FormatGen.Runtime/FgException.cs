using System;
using System.Globalization;

namespace FormatGen.Runtime;

/// <summary>
/// A structural error in the input: it cannot be parsed any further. Carries
/// the byte offset, the field path and, in streams, the record index.
/// (Not an <see cref="System.IO.InvalidDataException"/>, which .NET seals.)
/// </summary>
public sealed class FgException : Exception
{
    public FgException(string rule, string field, long offset, string detail)
        : base(detail)
    {
        Rule = rule;
        FieldPath = field;
        Offset = offset;
        Detail = detail;
    }

    /// <summary>Short id of the broken rule, e.g. <c>truncated</c> or a grammar rule name.</summary>
    public string Rule { get; }

    /// <summary>Dotted path of the field being read, e.g. <c>body.params[3].value</c>.</summary>
    public string FieldPath { get; private set; }

    /// <summary>Absolute byte offset of the field; -1 for a computed value, which has none.</summary>
    public long Offset { get; }

    /// <summary>Index of the record (stream element) being read, or -1.</summary>
    public long RecordIndex { get; set; } = -1;

    /// <summary>Name of the record type being read, when known.</summary>
    public string? RecordName { get; set; }

    /// <summary>What the stream's elements are called in messages ("record", "chunk").</summary>
    public string RecordNoun { get; set; } = "record";

    public string Detail { get; }

    /// <summary>What the reader knew when the error struck (a layer, a checkpoint round), appended to the message.</summary>
    public string? Context { get; set; }

    /// <summary>The detail, followed by the <see cref="Context"/> when there is one.</summary>
    public string DetailInContext => Context is null ? Detail : Detail + "; " + Context;

    public override string Message => Format();

    /// <summary>Generated code calls this as the error leaves a nested field.</summary>
    public FgException Under(string parent, int index)
        => Under(parent + "[" + index.ToString(CultureInfo.InvariantCulture) + "]");

    /// <summary>Generated code calls this as the error leaves a nested field.</summary>
    public FgException Under(string parent)
    {
        FieldPath = FieldPath.Length == 0 ? parent
            : FieldPath[0] == '[' ? parent + FieldPath
            : parent + "." + FieldPath;
        return this;
    }

    /// <summary>
    /// Generated code calls this in an exception filter as the error leaves a nested field: adds
    /// <paramref name="parent"/> to the path (as <see cref="Under(string)"/>) and returns false, so
    /// the error passes on without being caught and thrown again at each level. (Thrown again, an
    /// error of a deeply nested input took stack at every level on its way out, and on a thread
    /// with a small stack that overflowed it.)
    /// </summary>
    public bool Through(string parent)
    {
        Under(parent);
        return false;
    }

    /// <summary><see cref="Through(string)"/> for an element of a repeated field.</summary>
    public bool Through(string parent, int index)
    {
        Under(parent, index);
        return false;
    }

    /// <summary>The error as a violation (severity Error), keeping its record.</summary>
    public FgViolation ToViolation() => new(Rule, FgSeverity.Error, FieldPath, Offset, "", "", DetailInContext)
    {
        RecordIndex = RecordIndex,
        RecordName = RecordName,
        RecordNoun = RecordNoun,
    };

    public string Format()
    {
        var where = RecordIndex >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{RecordNoun} {RecordIndex}{(RecordName is null ? "" : " (" + RecordName + ")")}, ")
            : "";
        // A value computed from fields (an instance) has a name but no offset of its own.
        var parts = new System.Collections.Generic.List<string>(2);
        if (FieldPath.Length > 0) parts.Add((Offset < 0 ? "value " : "field ") + FieldPath);
        if (Offset >= 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"offset {Offset} (0x{Offset:x})"));
        return Rule + ": " + where + string.Join(", ", parts) + (parts.Count > 0 ? ": " : "") + DetailInContext;
    }

    internal static FgException Truncated(string field, long offset, long needed, long available, bool inSubstream)
        => new(inSubstream ? "too-short" : "truncated", field, offset,
            inSubstream
                ? string.Create(CultureInfo.InvariantCulture, $"needs {needed} octet(s) but its enclosing field has {available} left")
                : string.Create(CultureInfo.InvariantCulture, $"input ends: needs {needed} octet(s), {available} left"));

    internal static FgException BadSize(string field, long offset, long size)
        => new("bad-size", field, offset, string.Create(CultureInfo.InvariantCulture, $"size {size} is out of range"));

    /// <summary>
    /// The first error among what a read found: a parse instance, read on its
    /// own when asked for, fails on a broken rule (as Kaitai's does) since no
    /// validation is there to report it. Null when there is none.
    /// </summary>
    public static FgException? FirstError(FgValidation? found)
    {
        if (found is null) return null;
        foreach (var v in found.Violations)
            if (v.Severity == FgSeverity.Error) return Of(v);
        return null;
    }

    /// <summary>A violation that stops reading (nothing after it can be read), as the error it then is.</summary>
    public static FgException Of(FgViolation v) => new(v.Rule, v.FieldPath, v.Offset, v.Explanation)
    {
        RecordIndex = v.RecordIndex,
        RecordName = v.RecordName,
        RecordNoun = v.RecordNoun,
    };

    /// <summary>Raised by generated code when a computed size or count is impossible.</summary>
    public static FgException Invalid(string rule, string field, long offset, string detail) => new(rule, field, offset, detail);
}

/// <summary>A writer was given a model its own validator rejects; nothing was written.</summary>
public sealed class FgInvalidModelException : Exception
{
    public FgInvalidModelException(string typeName, System.Collections.Generic.IReadOnlyList<FgViolation> violations)
        : base("The " + typeName + " model breaks its grammar: " + string.Join("; ", System.Linq.Enumerable.Select(violations, v => v.ToString())))
    {
        Violations = violations;
    }

    public System.Collections.Generic.IReadOnlyList<FgViolation> Violations { get; }
}

/// <summary>A model cannot be written as it stands (a missing value, a list whose length the grammar fixes otherwise).</summary>
public sealed class FgWriteException : Exception
{
    public FgWriteException(string field, string detail) : base(field + ": " + detail) { FieldPath = field; }

    public string FieldPath { get; }
}
