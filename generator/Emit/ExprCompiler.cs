using System;
using System.Collections.Generic;
using System.Globalization;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal enum TK { Int, Bool, Enum, Bytes, Array, User }

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
        TK.Bytes or TK.Array => Names.Text + ".Dec(" + Size + ")",
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
        TEnumConst en => new Typed(EnumType(en.EnumCs) + "." + en.MemberCs, TK.Enum, Enum: en.EnumCs),
        TRef { Kind: RefKind.IoSize or RefKind.IoEos or RefKind.IoPos } r => scope.Io(r.Kind),
        TRef r => scope.Name(r),
        TPath p => scope.Path(p),
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
        return b.Name switch
        {
            "to_i" when target.Kind == TK.Enum => Typed.ULong("((ulong)" + target.Code + ")"),
            "to_i" => Typed.Long("(" + target.Code + " ? 1L : 0L)"),
            _ => Typed.Long("((long)" + target.Size + ")"),
        };
    }

    private Typed UnaryOp(TUnary u, IScope scope)
    {
        var a = Compile(u.Operand, scope);
        return u.Op switch
        {
            "not" => Typed.Bool("(!" + a.Code + ")"),
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
                if (!u64 && b.Op is "/" or "%")
                    return Typed.Long(Names.Eval + (b.Op == "/" ? ".Div(" : ".Mod(") + lc + ", " + rc + ")");
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
