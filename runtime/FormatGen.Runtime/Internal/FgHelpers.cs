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

    /// <summary>Lists of byte arrays compare their octets.</summary>
    public static bool List(IReadOnlyList<ReadOnlyMemory<byte>>? a, IReadOnlyList<ReadOnlyMemory<byte>>? b)
    {
        if (ReferenceEquals(a, b)) return true;
        int na = a?.Count ?? 0, nb = b?.Count ?? 0;
        if (na != nb) return false;
        for (int i = 0; i < na; i++)
            if (!a![i].Span.SequenceEqual(b![i].Span)) return false;
        return true;
    }

    public static int ListHash(IReadOnlyList<ReadOnlyMemory<byte>>? a)
    {
        var h = new HashCode();
        int n = a?.Count ?? 0;
        h.Add(n);
        for (int i = 0; i < Math.Min(n, 16); i++) h.Add(BytesHash(a![i]));
        return h.ToHashCode();
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
    public static string Float(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Kaitai's substring(from, to): the characters from 'from' up to, not including, 'to'.</summary>
    public static string Substring(string s, long from, long to)
    {
        int a = (int)Math.Max(0, Math.Min(from, s.Length));
        int b = (int)Math.Max(a, Math.Min(to, s.Length));
        return s.Substring(a, b - a);
    }

    public static string Reverse(string s)
    {
        var a = s.ToCharArray();
        Array.Reverse(a);
        return new string(a);
    }
    public static string Hex(long v) => Hex((ulong)v);

    public static string Enum<T>(T v, ulong raw) where T : struct, System.Enum
        => System.Enum.IsDefined(v) ? v.ToString() + "(" + Num(raw) + ")" : Num(raw);

    public static string Bytes(ReadOnlySpan<byte> v)
    {
        var sb = new StringBuilder();
        sb.Append(v.Length.ToString(CultureInfo.InvariantCulture)).Append(v.Length == 1 ? " octet" : " octets");
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

    /// <summary>A string for a message: quoted, cut short when long.</summary>
    public static string Quote(string? v)
        => v is null ? "-" : "\"" + (v.Length > 40 ? v.Substring(0, 40) + "..." : v).Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// The encoding a grammar names, in Kaitai's spelling (ASCII, UTF-8,
    /// UTF-16LE, ISO-8859-1, windows-1252, CP437, ...). Code-page encodings
    /// come from the platform's code-page provider.
    /// </summary>
    public static Encoding Encoding(string name)
    {
        switch (name.ToUpperInvariant().Replace("_", "-"))
        {
            case "ASCII": case "US-ASCII": return System.Text.Encoding.ASCII;
            case "UTF-8": case "UTF8": return Utf8;
            case "UTF-16LE": case "UTF16LE": return Utf16Le;
            case "UTF-16BE": case "UTF16BE": return Utf16Be;
            case "UTF-32LE": case "UTF32LE": return Utf32Le;
            case "UTF-32BE": case "UTF32BE": return Utf32Be;
            case "ISO-8859-1": case "LATIN1": case "ISO8859-1": return System.Text.Encoding.Latin1;
        }
        var e = System.Text.CodePagesEncodingProvider.Instance.GetEncoding(name)
                ?? System.Text.CodePagesEncodingProvider.Instance.GetEncoding(name.Replace("CP", "IBM").Replace("cp", "IBM"));
        if (e is not null) return e;
        try { return System.Text.Encoding.GetEncoding(name); }
        catch (ArgumentException) { throw new NotSupportedException("Encoding '" + name + "' is not available on this platform"); }
    }

    // Decoders that keep invalid sequences as replacement characters, as Kaitai's runtimes do; no byte-order marks.
    private static readonly Encoding Utf8 = new UTF8Encoding(false, false);
    private static readonly Encoding Utf16Le = new UnicodeEncoding(false, false, false);
    private static readonly Encoding Utf16Be = new UnicodeEncoding(true, false, false);
    private static readonly Encoding Utf32Le = new UTF32Encoding(false, false, false);
    private static readonly Encoding Utf32Be = new UTF32Encoding(true, false, false);

    /// <summary>
    /// Whether the octets read for a sized, terminated or padded value still
    /// hold it (what follows its terminator is the input's, to give back as it was).
    /// </summary>
    public static bool Keeps(ReadOnlySpan<byte> value, ReadOnlyMemory<byte> raw, int pad, int terminator, bool include)
        => !raw.IsEmpty && StripAndTerminate(raw.Span, pad, terminator, include).SequenceEqual(value);

    /// <summary>The octets of a value, with the octets of a pad-right strip and a terminator cut applied (Kaitai's order).</summary>
    public static ReadOnlySpan<byte> StripAndTerminate(ReadOnlySpan<byte> v, int pad, int terminator, bool include)
    {
        if (pad >= 0)
        {
            int n = v.Length;
            while (n > 0 && v[n - 1] == (byte)pad) n--;
            v = v.Slice(0, n);
        }
        if (terminator >= 0)
        {
            int i = v.IndexOf((byte)terminator);
            if (i >= 0) v = v.Slice(0, include ? i + 1 : i);
        }
        return v;
    }
}

/// <summary>Evaluation helpers for grammar expressions. For generated code only.</summary>
public static class FgEval
{
    /// <summary>Kaitai's % is a modulo whose result has the divisor's sign.</summary>
    public static long Mod(long a, long b)
    {
        if (b == 0) throw ByZero("%", a);
        if (b == -1) return 0;
        long r = a % b;
        return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
    }

    /// <summary>Kaitai's / on integers rounds toward negative infinity.</summary>
    public static long Div(long a, long b)
    {
        if (b == 0) throw ByZero("/", a);
        if (b == -1) return unchecked(-a);
        long q = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
    }

    public static ulong Div(ulong a, ulong b) => b == 0 ? throw ByZero("/", (long)a) : a / b;

    public static ulong Mod(ulong a, ulong b) => b == 0 ? throw ByZero("%", (long)a) : a % b;

    /// <summary>An instance with 'if' whose condition is false, read by an expression (Kaitai's runtimes fail there too).</summary>
    public static FgException Absent(string instance)
        => new("absent", instance, -1, "the value is absent (its 'if' is false) and an expression reads it");

    private static FgException ByZero(string op, long a)
        => new("division-by-zero", "", -1, a.ToString(CultureInfo.InvariantCulture) + " " + op + " 0: the divisor is zero");

    /// <summary>A list passed as a parameter whose element type differs from the list's (u1[] from a list of u2, say): converted.</summary>
    public static System.Collections.Generic.IReadOnlyList<T> ListOf<T>(System.Collections.IEnumerable? list)
    {
        if (list is System.Collections.Generic.IReadOnlyList<T> same) return same;
        var result = new System.Collections.Generic.List<T>();
        if (list is not null)
            foreach (var x in list) result.Add(x is T t ? t : (T)Convert.ChangeType(x, typeof(T), CultureInfo.InvariantCulture)!);
        return result;
    }

    /// <summary>The integer a switch holds (every case of it holds one); a switch whose key named no case holds none.</summary>
    public static long CaseLong(object? v)
        => v is IFgIntegerCase c ? c.AsLong : throw new FgException("switch", "", -1, "the switch holds no integer: its key names no case");

    /// <summary>The string a switch holds (every case of it holds one).</summary>
    public static string CaseString(object? v)
        => v is IFgStringCase c ? c.AsString : throw new FgException("switch", "", -1, "the switch holds no string: its key names no case");

    /// <summary>A list of integers seen as octets (.as&lt;bytes&gt;).</summary>
    public static byte[] Octets(System.Collections.Generic.IReadOnlyList<long> v)
    {
        var r = new byte[v.Count];
        for (int i = 0; i < r.Length; i++) r[i] = unchecked((byte)v[i]);
        return r;
    }

    /// <summary>a[i] of a byte array; an index outside it is an error of the expression.</summary>
    public static byte At(ReadOnlySpan<byte> v, long i)
        => i >= 0 && i < v.Length ? v[(int)i] : throw OutOfRange(i, v.Length, "octet");

    /// <summary>a[i] of a list; an index outside it is an error of the expression.</summary>
    // Nullable: a writer may index a list whose count it has just null-checked.
    public static T At<T>(System.Collections.Generic.IReadOnlyList<T>? v, long i)
        => v is not null && i >= 0 && i < v.Count ? v[(int)i] : throw OutOfRange(i, v?.Count ?? 0, "element");

    private static FgException OutOfRange(long i, int count, string what)
        => new("index", "", -1, "index " + i.ToString(CultureInfo.InvariantCulture) + " is outside the " + count.ToString(CultureInfo.InvariantCulture) + " " + what + "(s) there are");

    public static T First<T>(System.Collections.Generic.IReadOnlyList<T> v) => v.Count > 0 ? v[0] : throw Empty("first", "list");

    public static T Last<T>(System.Collections.Generic.IReadOnlyList<T> v) => v.Count > 0 ? v[v.Count - 1] : throw Empty("last", "list");

    public static T Min<T>(System.Collections.Generic.IReadOnlyList<T> v)
    {
        if (v.Count == 0) throw Empty("min", "list");
        var m = v[0];
        var cmp = System.Collections.Generic.Comparer<T>.Default;
        for (int i = 1; i < v.Count; i++) if (cmp.Compare(v[i], m) < 0) m = v[i];
        return m;
    }

    public static T Max<T>(System.Collections.Generic.IReadOnlyList<T> v)
    {
        if (v.Count == 0) throw Empty("max", "list");
        var m = v[0];
        var cmp = System.Collections.Generic.Comparer<T>.Default;
        for (int i = 1; i < v.Count; i++) if (cmp.Compare(v[i], m) > 0) m = v[i];
        return m;
    }

    private static FgException Empty(string what, string of) => new("empty", "", -1, what + " of an empty " + of);

    /// <summary>.as&lt;T&gt;: the value must be a T.</summary>
    public static T As<T>(object? v, string name)
        => v is T t ? t : throw new FgException("cast", "", -1, "the value is " + (v is null ? "absent" : "a " + v.GetType().Name) + ", not a " + name);

    /// <summary>Kaitai's str.to_i(radix); a string that is not a number is a structural error of the expression.</summary>
    public static long ParseInt(string s, int radix)
    {
        try { return Convert.ToInt64(s.Trim(), radix); }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw new FgException("to-i", "", -1, "'" + s + "' is not a number in base " + radix.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static byte[] Reverse(ReadOnlySpan<byte> v)
    {
        var a = v.ToArray();
        Array.Reverse(a);
        return a;
    }

    public static byte First(ReadOnlySpan<byte> v) => v.Length > 0 ? v[0] : throw Empty("first", "byte array");
    public static byte Last(ReadOnlySpan<byte> v) => v.Length > 0 ? v[v.Length - 1] : throw Empty("last", "byte array");

    public static byte Min(ReadOnlySpan<byte> v)
    {
        if (v.Length == 0) throw Empty("min", "byte array");
        byte m = 255;
        foreach (var b in v) if (b < m) m = b;
        return m;
    }

    public static byte Max(ReadOnlySpan<byte> v)
    {
        if (v.Length == 0) throw Empty("max", "byte array");
        byte m = 0;
        foreach (var b in v) if (b > m) m = b;
        return m;
    }

    /// <summary>The most elements a repeat may have when its elements may take no octets (nothing in the input then bounds it).</summary>
    public const int EmptyElementLimit = 1 << 24;

    /// <summary>A repeat whose elements may take no octets: its count must stay within <see cref="EmptyElementLimit"/>, so a corrupt one cannot exhaust memory.</summary>
    public static void CheckEmptyCount(int n, string field, long offset)
    {
        if (n > EmptyElementLimit)
            throw FgException.Invalid("bad-count", field, offset, "count " + n.ToString(CultureInfo.InvariantCulture) + " of elements that may take no octets is over the limit of " + EmptyElementLimit.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// A length or count the writer derives from the model (<paramref name="what"/> of
    /// <paramref name="source"/>), for the field <paramref name="field"/> that holds at most
    /// <paramref name="max"/>: past it the model cannot be written, an <see cref="FgWriteException"/>
    /// naming both (text read from invalid UTF-8 comes back longer, each bad octet as U+FFFD).
    /// </summary>
    public static long Derived(long value, ulong max, string field, string what, string source)
    {
        if ((ulong)value > max)
            throw new FgWriteException(field, string.Create(CultureInfo.InvariantCulture, $"cannot hold {value}, the {what} of '{source}' (at most {max})"));
        return value;
    }

    /// <summary>
    /// The first capacity of a list of <paramref name="count"/> elements that may take no octets:
    /// no more than the octets left (<paramref name="remaining"/>) could hold were each one octet,
    /// so a corrupt count allocates nothing on its word; the list grows as elements are read.
    /// </summary>
    public static int FirstCapacity(int count, int remaining) => Math.Min(count, Math.Max(remaining, 16));

    /// <summary>A repeat count: a negative one reads no element (as every Kaitai runtime's loop does); one past int is an error.</summary>
    public static int CheckedCount(long n, string field, long offset)
    {
        if (n < 0) return 0;
        if (n > int.MaxValue) throw FgException.Invalid("bad-count", field, offset, "count " + n.ToString(CultureInfo.InvariantCulture) + " is out of range");
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
