using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace FormatGen.Runtime.Internal;

/// <summary>Structural equality for generated models. For generated code only.</summary>
public static class FgEq
{
    public static bool Bytes(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b) => a.Span.SequenceEqual(b.Span);

    public static int BytesHash(ReadOnlyMemory<byte> a)
    {
        var h = new HashCode();
        h.Add(a.Length);
        h.AddBytes(a.Span.Slice(0, Math.Min(a.Length, 64)));
        return h.ToHashCode();
    }

    public static bool List<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b)
    {
        if (ReferenceEquals(a, b)) return true;
        int na = a?.Count ?? 0, nb = b?.Count ?? 0;
        if (na != nb) return false;
        var cmp = EqualityComparer<T>.Default;
        for (int i = 0; i < na; i++)
            if (!cmp.Equals(a![i], b![i])) return false;
        return true;
    }

    public static int ListHash<T>(IReadOnlyList<T>? a)
    {
        var h = new HashCode();
        int n = a?.Count ?? 0;
        h.Add(n);
        for (int i = 0; i < Math.Min(n, 16); i++) h.Add(a![i]);
        return h.ToHashCode();
    }
}

/// <summary>Text for violations and summaries. For generated code only.</summary>
public static class FgText
{
    public static string Num(ulong v) => v < 10 ? v.ToString(CultureInfo.InvariantCulture) : "0x" + v.ToString("x", CultureInfo.InvariantCulture);
    public static string Num(long v) => v < 0 ? v.ToString(CultureInfo.InvariantCulture) : Num((ulong)v);
    public static string Dec(long v) => v.ToString(CultureInfo.InvariantCulture);
    public static string Dec(ulong v) => v.ToString(CultureInfo.InvariantCulture);
    public static string Bool(bool v) => v ? "true" : "false";
    public static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
    public static string Hex(long v) => Hex((ulong)v);

    public static string Enum<T>(T v, ulong raw) where T : struct, System.Enum
        => System.Enum.IsDefined(v) ? v.ToString() + "(" + Num(raw) + ")" : Num(raw);

    public static string Bytes(ReadOnlySpan<byte> v)
    {
        var sb = new StringBuilder();
        sb.Append(v.Length.ToString(CultureInfo.InvariantCulture)).Append(" octets");
        if (v.Length > 0)
        {
            sb.Append(" [");
            for (int i = 0; i < Math.Min(v.Length, 8); i++) sb.Append(v[i].ToString("x2", CultureInfo.InvariantCulture));
            if (v.Length > 8) sb.Append("...");
            sb.Append(']');
        }
        return sb.ToString();
    }

    public static string Count(int n, string what) => n.ToString(CultureInfo.InvariantCulture) + " " + what;
}

/// <summary>Evaluation helpers for grammar expressions. For generated code only.</summary>
public static class FgEval
{
    /// <summary>Kaitai's % is a modulo whose result has the divisor's sign.</summary>
    public static long Mod(long a, long b) { long r = a % b; return r != 0 && ((r < 0) != (b < 0)) ? r + b : r; }

    /// <summary>Kaitai's / on integers rounds toward negative infinity.</summary>
    public static long Div(long a, long b) { long q = a / b; return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q; }

    public static int CheckedCount(long n, string field, long offset)
    {
        if (n < 0 || n > int.MaxValue) throw FgException.Invalid("bad-count", field, offset, "count " + n.ToString(CultureInfo.InvariantCulture) + " is out of range");
        return (int)n;
    }
}

/// <summary>Writer helpers. For generated code only.</summary>
public static class FgWrite
{
    /// <summary>The errors among violations, or null when there are none.</summary>
    public static IReadOnlyList<FgViolation>? Errors(IReadOnlyList<FgViolation> violations)
    {
        List<FgViolation>? errors = null;
        foreach (var v in violations)
            if (v.Severity == FgSeverity.Error) (errors ??= new List<FgViolation>()).Add(v);
        return errors;
    }
}
