namespace FormatGen.Generator.Emit;

/// <summary>Every fully qualified name the emitted code uses, in one place.</summary>
internal static class Names
{
    public const string Runtime = "global::FormatGen.Runtime";
    public const string Reader = Runtime + ".FgReader";
    public const string Writer = Runtime + ".FgWriter";
    public const string Validation = Runtime + ".FgValidation";
    public const string Violation = Runtime + ".FgViolation";
    public const string Severity = Runtime + ".FgSeverity";
    public const string Exception = Runtime + ".FgException";
    public const string StreamGrammar = Runtime + ".FgStreamGrammar";
    public const string Eq = Runtime + ".Internal.FgEq";
    public const string Text = Runtime + ".Internal.FgText";
    public const string Eval = Runtime + ".Internal.FgEval";
    public const string Process = Runtime + ".Internal.FgProcess";
    public const string Io = Runtime + ".FgIo";
    public const string Box = Runtime + ".FgBox";
    public const string WriteHelpers = Runtime + ".Internal.FgWrite";
    public const string ReadOnlyMemory = "global::System.ReadOnlyMemory<byte>";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan<byte>";
    public const string BufferWriter = "global::System.Buffers.IBufferWriter<byte>";
    public const string List = "global::System.Collections.Generic.IReadOnlyList";
    public const string MutableList = "global::System.Collections.Generic.List";
    public const string ViolationList = "global::System.Collections.Generic.IReadOnlyList<" + Violation + ">";
    public const string Array = "global::System.Array";
    public const string Stream = "global::System.IO.Stream";
    public const string HashCode = "global::System.HashCode";
    public const string StringBuilder = "global::System.Text.StringBuilder";
    public static string KsyName(System.Collections.Generic.IEnumerable<string> scope, string id) => "global::FormatGen.Runtime.FgKsyName(\"" + string.Join("::", System.Linq.Enumerable.Concat(scope, new[] { id })) + "\")";

    /// <summary>The model member holding octets left inside a size after a type's fields.</summary>
    public const string Slack = "Slack";

    public const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode(\"FormatGen\", \"1.0\")";
    public const string NeverBrowsable = "[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]";
    public const string Span = "global::System.Span<byte>";
    public const string Math = "global::System.Math";
    public const string Enum = "global::System.Enum";
    public const string Linq = "global::System.Linq.Enumerable";
    public const string Encoding = "global::System.Text.Encoding";
    public const string EqualityComparer = "global::System.Collections.Generic.EqualityComparer";
    public const string MemoryExtensions = "global::System.MemoryExtensions";
    public const string ArgumentException = "global::System.ArgumentException";
    public const string ArgumentNullException = "global::System.ArgumentNullException";
    public const string InvalidOperationException = "global::System.InvalidOperationException";

    /// <summary>A type of the grammar's namespace, fully qualified.</summary>
    /// <summary>A type's C# name with its namespace; names of another grammar's types come qualified already.</summary>
    public static string Global(string ns, string csName) => csName.StartsWith("global::", System.StringComparison.Ordinal) ? csName : "global::" + ns + "." + csName;

    // Locals and parameters of generated methods, so they never clash with grammar names.
    public const string R = "__r";
    public const string W = "__w";
    public const string V = "__v";
    public const string Build = "__build";
    public const string IoSize = "__ioSize";
    public const string Start = "__start";

    public static string Field(string id) => "f_" + id;
    public static string Len(string id) => "len_" + id;
    public static string Count(string id) => "n_" + id;
    public static string Param(string id) => "p_" + id;
    public static string Export(string member) => "x_" + member;
    public static string Hidden(string path) => "h_" + path.Replace('.', '_');
    /// <summary>A model's copy of a value its reader saw (for its instances), by the reader's local name.</summary>
    public static string Captured(string local) => "__c" + local;
    public static string Counter(string field, int i) => "c_" + field + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string CsPrimitive(string prim) => prim switch
    {
        "u1" => "byte",
        "u2" => "ushort",
        "u4" => "uint",
        "u8" => "ulong",
        "s1" => "sbyte",
        "s2" => "short",
        "s4" => "int",
        "s8" => "long",
        "f4" => "float",
        "f8" => "double",
        "bool" or "b1" => "bool",
        _ when IsBits(prim) => BitWidth(prim) <= 8 ? "byte" : BitWidth(prim) <= 16 ? "ushort" : BitWidth(prim) <= 32 ? "uint" : "ulong",
        _ => "ulong",
    };

    /// <summary>A bit-sized integer (b1..b64).</summary>
    public static bool IsBits(string prim) => prim.Length > 1 && prim[0] == 'b' && char.IsDigit(prim[1]);

    public static int BitWidth(string prim) => int.Parse(prim.Substring(1), System.Globalization.CultureInfo.InvariantCulture);

    public static bool IsFloat(string prim) => prim is "f4" or "f8";

    /// <summary>Octets of a primitive; 0 for a bit-sized integer, whose octets it may share.</summary>
    public static int PrimSize(string prim) => IsBits(prim) ? 0 : prim[1] - '0';

    /// <summary>The reader call that reads a primitive.</summary>
    /// <summary>The reader call of a primitive; a b1 is a bool unless <paramref name="asBool"/> is false (a b1 with an enum).</summary>
    public static string ReadCall(string prim, string? order, string field, bool asBool = true)
    {
        if (IsBits(prim))
        {
            var call = R + ".Bits(" + BitWidth(prim).ToString(System.Globalization.CultureInfo.InvariantCulture) + ", " + (order == "le" ? "true" : "false") + ", " + field + ")";
            return prim == "b1" && asBool ? "(" + call + " != 0)" : call;
        }
        return R + "." + prim.ToUpperInvariant() + "(" + field + Order(order) + ")";
    }

    /// <summary>The writer call that writes a primitive value (C# code of its type).</summary>
    public static string WriteCall(string prim, string? order, string value, bool asBool = true)
    {
        if (IsBits(prim))
            return W + ".Bits(" + (prim == "b1" && asBool ? "(" + value + " ? 1UL : 0UL)" : "(ulong)" + value) + ", " + BitWidth(prim).ToString(System.Globalization.CultureInfo.InvariantCulture) + ", " + (order == "le" ? "true" : "false") + ");";
        return W + "." + prim.ToUpperInvariant() + "((" + CsPrimitive(prim) + ")" + value + Order(order) + ");";
    }

    /// <summary>", true" / ", false" for a field whose byte order the grammar fixes (u4le), else "".</summary>
    public static string Order(string? byteOrder) => byteOrder switch { "le" => ", true", "be" => ", false", _ => "" };
}
