using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal enum TK { Int, Bool, Enum, Bytes, Array, User, Float, Str, Io }

/// <summary>A compiled expression: C# code and what it is. Integers are always long or ulong (U64).</summary>
internal sealed record Typed(string Code, TK Kind, bool U64 = false, string? Enum = null, string? User = null, string? Size = null)
{
    public static Typed Long(string code) => new(code, TK.Int);
    public static Typed ULong(string code) => new(code, TK.Int, U64: true);
    public static Typed Bool(string code) => new(code, TK.Bool);

    /// <summary>C# that renders the value for a message.</summary>
    public string Show() => Kind switch
    {
        TK.Int => Names.Text + ".Num(" + Code + ")",
        TK.Bool => Names.Text + ".Bool(" + Code + ")",
        TK.Enum => Names.Text + ".Enum(" + Code + ", (ulong)" + Code + ")",
        TK.Bytes when Code.Length > 0 => Names.Text + ".Bytes(" + Code + ")",
        TK.Bytes or TK.Array => Names.Text + ".Dec(" + Size + ")",
        TK.Float => Names.Text + ".Float(" + Code + ")",
        TK.Str => Names.Text + ".Quote(" + Code + ")",
        _ => "\"?\"",
    };
}

/// <summary>
/// What checked names become where an expression is printed (reader, writer,
/// model). Every name was resolved by the checker, so a context always has an
/// answer; a missing one is a bug of the emitter.
/// </summary>
internal interface IScope
{
    /// <summary>A field, parameter, instance, _index or _ (by its ksy id).</summary>
    Typed Name(TRef r);
    Typed Member(Typed target, TMember m);
    Typed Path(TPath p);
    /// <summary>A value of the owner's model, read later (an instance).</summary>
    Typed Late(TLate l);
    /// <summary>The box of the model being read, passed to what reads it later.</summary>
    Typed Box(TBox b);
    Typed Io(RefKind kind);
    Typed CountWhere(TCount c);
}

/// <summary>A scope whose names include locals the emitted code has declared so far.</summary>
internal interface ILocalScope : IScope
{
    Dictionary<string, Typed> Locals { get; }
}

/// <summary>Prints checked expressions as C#. Every operator is parenthesised: C#'s precedence differs.</summary>
internal sealed class ExprCompiler
{
    private readonly string _ns;

    public ExprCompiler(GrammarModel grammar) => _ns = grammar.Namespace;

    public string EnumType(string csName) => Names.Global(_ns, csName);

    public Typed Compile(TExpr e, IScope scope) => e switch
    {
        TInt i => i.Type.U64 ? Typed.ULong(i.Code) : Typed.Long(i.Code),
        TBool b => Typed.Bool(b.Value ? "true" : "false"),
        TFloat f => new Typed(FloatLit(f.Value), TK.Float),
        TStr str => new Typed(StrLit(str.Value), TK.Str),
        TBytes bs => new Typed("((" + Names.ReadOnlySpan + ")new byte[] { " + string.Join(", ", bs.Value.Select(x => x.ToString(CultureInfo.InvariantCulture))) + " })", TK.Bytes,
            Size: bs.Value.Count.ToString(CultureInfo.InvariantCulture)),
        TList l => ListLit(l, scope),
        TIndex ix => Index(ix, scope),
        TCast c => Cast(c, scope),
        TMethod m => Method(m, scope),
        TEnumConst en => new Typed(EnumType(en.EnumCs) + "." + en.MemberCs, TK.Enum, Enum: en.EnumCs),
        TRef { Kind: RefKind.IoSize or RefKind.IoEos or RefKind.IoPos or RefKind.IoValue or RefKind.RootIoValue or RefKind.RootIoSize } r => scope.Io(r.Kind),
        TRef r => scope.Name(r),
        TPath p => scope.Path(p),
        TLate l => scope.Late(l),
        TBox b => scope.Box(b),
        TMember m => scope.Member(Compile(m.Target, scope), m),
        TBuiltin b => Builtin(b, scope),
        TCount c => scope.CountWhere(c),
        TUnary u => UnaryOp(u, scope),
        TBinary b => BinaryOp(b, scope),
        TTernary t => TernaryOp(t, scope),
        _ => throw new InvalidOperationException("an unchecked expression reached the emitter: " + e),
    };

    private Typed Builtin(TBuiltin b, IScope scope)
    {
        var target = Compile(b.Target, scope);
        return (b.Name, target.Kind) switch
        {
            ("to_i", TK.Enum) => b.Type.U64 ? Typed.ULong("((ulong)" + target.Code + ")") : Typed.Long("((long)" + target.Code + ")"),
            ("to_i", TK.Bool) => Typed.Long("(" + target.Code + " ? 1L : 0L)"),
            ("to_i", TK.Float) => Typed.Long("((long)" + target.Code + ")"),
            ("to_i", TK.Str) => Typed.Long(Names.Eval + ".ParseInt(" + target.Code + ", 10)"),
            ("to_s", _) => new Typed(Names.Text + ".Dec(" + target.Code + ")", TK.Str),
            ("size", TK.Str) => Typed.Long("((long)" + target.Code + ".Length)"),
            ("size", TK.Io) => Typed.Long("((long)" + target.Code + ".Size)"),
            ("size", _) => Typed.Long("((long)" + target.Size + ")"),
            ("reverse", TK.Str) => new Typed(Names.Text + ".Reverse(" + target.Code + ")", TK.Str),
            ("reverse", _) => target with { Code = "((" + Names.ReadOnlySpan + ")" + Names.Eval + ".Reverse(" + target.Code + "))" },
            (_, TK.Bytes) => Typed.Long("((long)" + Names.Eval + "." + Pascal(b.Name) + "(" + target.Code + "))"),
            _ => ElementOf(b.Type, Names.Eval + "." + Pascal(b.Name) + "(" + target.Code + ")"),
        };
    }

    private static string Pascal(string s) => char.ToUpperInvariant(s[0]) + s.Substring(1);

    /// <summary>An element of a list, typed as the checker says.</summary>
    private Typed ElementOf(ExprType type, string code) => type.Kind switch
    {
        TKind.Int when type.U64 => Typed.ULong("((ulong)" + code + ")"),
        TKind.Int => Typed.Long("((long)" + code + ")"),
        TKind.Bool => Typed.Bool(code),
        TKind.Float => new Typed("((double)" + code + ")", TK.Float),
        TKind.Str => new Typed(code, TK.Str),
        TKind.Enum => new Typed(code, TK.Enum, Enum: type.Name),
        TKind.Bytes => new Typed("(" + code + ").Span", TK.Bytes, Size: "(" + code + ").Length"),
        _ => new Typed(code, TK.User, User: type.Name),
    };

    private Typed ListLit(TList l, IScope scope)
    {
        var items = l.Items.Select(i => Compile(i, scope)).ToList();
        var elem = CsType(l.Type.Element!);
        return new Typed("new " + elem + "[] { " + string.Join(", ", items.Select(i => "(" + elem + ")" + i.Code)) + " }", TK.Array, Size: items.Count.ToString(CultureInfo.InvariantCulture));
    }

    private string CsType(ExprType t) => t.Kind switch
    {
        TKind.Int => t.U64 ? "ulong" : "long",
        TKind.Bool => "bool",
        TKind.Float => "double",
        TKind.Str => "string",
        TKind.Enum or TKind.User => Names.Global(_ns, t.Name!),
        _ => "object",
    };

    private Typed Index(TIndex ix, IScope scope)
    {
        var target = Compile(ix.Target, scope);
        var index = Compile(ix.Index, scope);
        if (target.Kind == TK.Bytes) return Typed.Long("((long)" + Names.Eval + ".At(" + target.Code + ", (long)" + index.Code + "))");
        return ElementOf(ix.Type, Names.Eval + ".At(" + target.Code + ", (long)" + index.Code + ")");
    }

    private Typed Cast(TCast c, IScope scope)
    {
        var target = Compile(c.Target, scope);
        if (c.Type.Kind == TKind.Bytes)
            return new Typed("((" + Names.ReadOnlySpan + ")" + Names.Eval + ".Octets(" + target.Code + "))", TK.Bytes, Size: "(long)(" + target.Size + ")");
        if (c.Type.Kind == TKind.User) return new Typed(Names.Eval + ".As<" + Names.Global(_ns, c.Type.Name!) + ">(" + target.Code + ", " + StrLit(c.Type.Name!) + ")", TK.User, User: c.Type.Name);
        return c.Type.U64 ? Typed.ULong("unchecked((ulong)" + target.Code + ")") : Typed.Long("unchecked((long)" + target.Code + ")");
    }

    private Typed Method(TMethod m, IScope scope)
    {
        var target = Compile(m.Target, scope);
        var args = m.Args.Select(a => Compile(a, scope)).ToList();
        return m.Name switch
        {
            "substring" => new Typed(Names.Text + ".Substring(" + target.Code + ", " + args[0].Code + ", " + args[1].Code + ")", TK.Str),
            "to_i" => Typed.Long(Names.Eval + ".ParseInt(" + target.Code + ", (int)" + args[0].Code + ")"),
            _ => new Typed(Names.Text + ".Encoding(" + args[0].Code + ").GetString(" + target.Code + ")", TK.Str),
        };
    }

    private static string FloatLit(double v) => v.ToString("R", CultureInfo.InvariantCulture) + "d";

    /// <summary>A C# string literal for any text.</summary>
    public static string StrLit(string v)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (var c in v)
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when c < 0x20 || c > 0x7e => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        return sb.Append('"').ToString();
    }

    private Typed UnaryOp(TUnary u, IScope scope)
    {
        var a = Compile(u.Operand, scope);
        return u.Op switch
        {
            "not" => Typed.Bool("(!" + a.Code + ")"),
            "-" when a.Kind == TK.Float => a with { Code = "(-" + a.Code + ")" },
            "-" => Typed.Long("(-(long)" + a.Code + ")"),
            _ => a with { Code = "(~" + a.Code + ")" },
        };
    }

    private Typed BinaryOp(TBinary b, IScope scope)
    {
        var l = Compile(b.Left, scope);
        var r = Compile(b.Right, scope);
        switch (b.Op)
        {
            case "and":
            case "or":
                return Typed.Bool("(" + l.Code + (b.Op == "and" ? " && " : " || ") + r.Code + ")");
            case "+" when l.Kind == TK.Str:
                return new Typed("(" + l.Code + " + " + r.Code + ")", TK.Str);
            case "==" or "!=" or "<" or "<=" or ">" or ">=" when l.Kind == TK.Str:
                return Typed.Bool("(string.CompareOrdinal(" + l.Code + ", " + r.Code + ") " + b.Op + " 0)");
            case "==" or "!=" or "<" or "<=" or ">" or ">=" when l.Kind == TK.Bytes:
                return Typed.Bool("(" + Names.MemoryExtensions + ".SequenceCompareTo(" + l.Code + ", " + r.Code + ") " + b.Op + " 0)");
            case "==" or "!=" or "<" or "<=" or ">" or ">=" or "+" or "-" or "*" or "/" when l.Kind == TK.Float || r.Kind == TK.Float:
                return b.Type.Kind == TKind.Bool
                    ? Typed.Bool("((double)" + l.Code + " " + b.Op + " (double)" + r.Code + ")")
                    : new Typed("((double)" + l.Code + " " + b.Op + " (double)" + r.Code + ")", TK.Float);
            case "==" or "!=" when l.Kind != TK.Int:
                return Typed.Bool("(" + l.Code + " " + b.Op + " " + r.Code + ")");
            case "==" or "!=" or "<" or "<=" or ">" or ">=":
            {
                var (lc, rc) = Unify(l, r);
                return Typed.Bool("(" + lc + " " + b.Op + " " + rc + ")");
            }
            case "<<" or ">>":
                return l with { Code = "(" + l.Code + " " + b.Op + " (int)" + r.Code + ")" };
            default:
            {
                var (lc, rc) = Unify(l, r);
                bool u64 = l.U64 || r.U64;
                if (b.Op is "/" or "%")
                {
                    var call = Names.Eval + (b.Op == "/" ? ".Div(" : ".Mod(") + lc + ", " + rc + ")";
                    return u64 ? Typed.ULong(call) : Typed.Long(call);
                }
                var code = "(" + lc + " " + b.Op + " " + rc + ")";
                if (u64 && b.Op is "+" or "-" or "*") code = "unchecked" + code;
                return u64 ? Typed.ULong(code) : Typed.Long(code);
            }
        }
    }

    private Typed TernaryOp(TTernary t, IScope scope)
    {
        var c = Compile(t.Cond, scope);
        var a = Compile(t.Then, scope);
        var b = Compile(t.Else, scope);
        if (a.Kind == TK.Int && b.Kind == TK.Int)
        {
            var (ac, bc) = Unify(a, b);
            var code = "(" + c.Code + " ? " + ac + " : " + bc + ")";
            return a.U64 || b.U64 ? Typed.ULong(code) : Typed.Long(code);
        }
        if (t.Type.Kind == TKind.Float) return new Typed("(" + c.Code + " ? (double)" + a.Code + " : (double)" + b.Code + ")", TK.Float);
        if (t.Type.Kind == TKind.Bytes)
            return new Typed("(" + c.Code + " ? " + a.Code + " : " + b.Code + ")", TK.Bytes, Size: "(" + c.Code + " ? " + a.Size + " : " + b.Size + ")");
        if (t.Type.Kind == TKind.User)
        {
            // Two user types meet at their common type (a switch's union interface, or the type itself).
            var common = Names.Global(_ns, t.Type.Name!);
            return new Typed("(" + c.Code + " ? (" + common + ")" + a.Code + " : (" + common + ")" + b.Code + ")", TK.User, User: t.Type.Name);
        }
        return a with { Code = "(" + c.Code + " ? " + a.Code + " : " + b.Code + ")" };
    }

    private static (string, string) Unify(Typed a, Typed b)
    {
        if (a.U64 == b.U64) return (a.Code, b.Code);
        return (a.U64 ? a.Code : "unchecked((ulong)" + a.Code + ")", b.U64 ? b.Code : "unchecked((ulong)" + b.Code + ")");
    }
}
