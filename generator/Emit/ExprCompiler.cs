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

/// <summary>What names mean where an expression is compiled (reader, writer, model).</summary>
internal interface IScope
{
    Typed? Name(string id);
    Typed? Member(Typed target, string member);
    Typed? Path(string head, IReadOnlyList<string> path);
    Typed? Io(string member);
    Typed? CountWhere(string arrayId, Expr predicate);
}

/// <summary>A scope whose names include locals the emitted code has declared so far.</summary>
internal interface ILocalScope : IScope
{
    Dictionary<string, Typed> Locals { get; }
}

internal sealed class ExprError : Exception
{
    public ExprError(string message, bool unknownName = false) : base(message) { UnknownName = unknownName; }

    /// <summary>The expression names something that does not exist (FG0008), rather than misusing a type (FG0009).</summary>
    public bool UnknownName { get; }
}

/// <summary>Compiles Kaitai expressions to C#. Every operator is parenthesised: C#'s precedence differs.</summary>
internal sealed class ExprCompiler
{
    private readonly Dictionary<string, EnumModel> _enums;
    private readonly string _ns;

    public ExprCompiler(GrammarModel grammar)
    {
        _ns = grammar.Namespace;
        _enums = new Dictionary<string, EnumModel>(StringComparer.Ordinal);
        foreach (var e in grammar.Enums) _enums[e.KsyId] = e;
    }

    public string EnumType(string csName) => "global::" + _ns + "." + csName;

    public Typed Compile(Expr e, IScope scope) => e switch
    {
        IntLit i => i.Value <= long.MaxValue
            ? Typed.Long(i.Value.ToString(CultureInfo.InvariantCulture) + "L")
            : Typed.ULong("0x" + i.Value.ToString("x", CultureInfo.InvariantCulture) + "UL"),
        BoolLit b => Typed.Bool(b.Value ? "true" : "false"),
        EnumLit en => CompileEnumLit(en),
        NameRef n => scope.Name(n.Id) ?? throw new ExprError("'" + n.Id + "' is not defined here", unknownName: true),
        MemberRef m => CompileMember(m, scope),
        MethodCall c => CompileCall(c, scope),
        Unary u => CompileUnary(u, scope),
        Binary b => CompileBinary(b, scope),
        Ternary t => CompileTernary(t, scope),
        _ => throw new ExprError("unsupported expression"),
    };

    private Typed CompileEnumLit(EnumLit en)
    {
        var name = en.Enum.Contains("::") ? en.Enum.Substring(en.Enum.LastIndexOf("::", StringComparison.Ordinal) + 2) : en.Enum;
        if (!_enums.TryGetValue(name, out var model)) throw new ExprError("enum '" + en.Enum + "' is not defined", unknownName: true);
        foreach (var m in model.Members)
            if (m.KsyName == en.Member) return new Typed(EnumType(model.CsName) + "." + m.CsName, TK.Enum, Enum: model.CsName);
        throw new ExprError("enum '" + en.Enum + "' has no member '" + en.Member + "'", unknownName: true);
    }

    private static bool IsPathHead(Expr e, out string head, out List<string> path)
    {
        path = new List<string>();
        while (e is MemberRef m)
        {
            path.Insert(0, m.Name);
            e = m.Target;
        }
        head = (e as NameRef)?.Id ?? "";
        return head is "_root" or "_parent";
    }

    private Typed CompileMember(MemberRef m, IScope scope)
    {
        if (IsPathHead(m, out var head, out var path))
            return scope.Path(head, path) ?? throw new ExprError("'" + head + "." + string.Join(".", path) + "' cannot be resolved here", unknownName: true);
        if (m.Target is NameRef { Id: "_io" })
            return scope.Io(m.Name) ?? throw new ExprError("'_io." + m.Name + "' is not available here");
        var target = Compile(m.Target, scope);
        switch (m.Name)
        {
            case "to_i" when target.Kind == TK.Enum: return Typed.ULong("((ulong)" + target.Code + ")");
            case "to_i" when target.Kind == TK.Bool: return Typed.Long("(" + target.Code + " ? 1L : 0L)");
            case "size" or "length" when target.Kind is TK.Bytes or TK.Array: return Typed.Long("((long)" + target.Size + ")");
        }
        if (target.Kind == TK.User) return scope.Member(target, m.Name) ?? throw new ExprError("'" + m.Name + "' is not a member of " + target.User, unknownName: true);
        throw new ExprError("'." + m.Name + "' cannot be applied here");
    }

    private Typed CompileCall(MethodCall c, IScope scope)
    {
        if (c.Name == "count" && c.Target is NameRef n)
            return scope.CountWhere(n.Id, c.Arg) ?? throw new ExprError("'" + n.Id + ".count(...)' needs a repeated field of this type");
        throw new ExprError("method '" + c.Name + "' is not supported");
    }

    private Typed CompileUnary(Unary u, IScope scope)
    {
        var a = Compile(u.Operand, scope);
        switch (u.Op)
        {
            case "not": RequireBool(a, "not"); return Typed.Bool("(!" + a.Code + ")");
            case "-": RequireInt(a, "-"); return Typed.Long("(-(long)" + a.Code + ")");
            case "~": RequireInt(a, "~"); return a with { Code = "(~" + a.Code + ")" };
        }
        throw new ExprError("unknown operator " + u.Op);
    }

    private Typed CompileBinary(Binary b, IScope scope)
    {
        var l = Compile(b.Left, scope);
        var r = Compile(b.Right, scope);
        switch (b.Op)
        {
            case "and":
            case "or":
                RequireBool(l, b.Op);
                RequireBool(r, b.Op);
                return Typed.Bool("(" + l.Code + (b.Op == "and" ? " && " : " || ") + r.Code + ")");
            case "==":
            case "!=":
                if (l.Kind == TK.Enum || r.Kind == TK.Enum)
                {
                    if (l.Kind != r.Kind || l.Enum != r.Enum) throw new ExprError("cannot compare " + Describe(l) + " with " + Describe(r));
                    return Typed.Bool("(" + l.Code + " " + b.Op + " " + r.Code + ")");
                }
                if (l.Kind == TK.Bool && r.Kind == TK.Bool) return Typed.Bool("(" + l.Code + " " + b.Op + " " + r.Code + ")");
                goto case "<";
            case "<":
            case "<=":
            case ">":
            case ">=":
            {
                RequireInts(l, r, b.Op);
                var (lc, rc) = Unify(l, r);
                return Typed.Bool("(" + lc + " " + b.Op + " " + rc + ")");
            }
            case "<<":
            case ">>":
                RequireInts(l, r, b.Op);
                return l with { Code = "(" + l.Code + " " + b.Op + " (int)" + r.Code + ")" };
            case "+":
            case "-":
            case "*":
            case "/":
            case "%":
            case "&":
            case "|":
            case "^":
            {
                RequireInts(l, r, b.Op);
                var (lc, rc) = Unify(l, r);
                bool u64 = l.U64 || r.U64;
                if (!u64 && b.Op is "/" or "%")
                    return Typed.Long(Names.Eval + (b.Op == "/" ? ".Div(" : ".Mod(") + lc + ", " + rc + ")");
                var code = "(" + lc + " " + b.Op + " " + rc + ")";
                if (u64 && b.Op is "+" or "-" or "*") code = "unchecked" + code;
                return u64 ? Typed.ULong(code) : Typed.Long(code);
            }
        }
        throw new ExprError("unknown operator " + b.Op);
    }

    private Typed CompileTernary(Ternary t, IScope scope)
    {
        var c = Compile(t.Cond, scope);
        RequireBool(c, "?:");
        var a = Compile(t.Then, scope);
        var b = Compile(t.Else, scope);
        if (a.Kind == TK.Int && b.Kind == TK.Int)
        {
            var (ac, bc) = Unify(a, b);
            var code = "(" + c.Code + " ? " + ac + " : " + bc + ")";
            return a.U64 || b.U64 ? Typed.ULong(code) : Typed.Long(code);
        }
        if (a.Kind != b.Kind || a.Enum != b.Enum) throw new ExprError("the branches of ?: differ: " + Describe(a) + " and " + Describe(b));
        return a with { Code = "(" + c.Code + " ? " + a.Code + " : " + b.Code + ")" };
    }

    private static (string, string) Unify(Typed a, Typed b)
    {
        if (a.U64 == b.U64) return (a.Code, b.Code);
        return (a.U64 ? a.Code : "unchecked((ulong)" + a.Code + ")", b.U64 ? b.Code : "unchecked((ulong)" + b.Code + ")");
    }

    private static void RequireInts(Typed a, Typed b, string op)
    {
        RequireInt(a, op);
        RequireInt(b, op);
    }

    private static void RequireInt(Typed t, string op)
    {
        if (t.Kind != TK.Int) throw new ExprError("'" + op + "' needs integers, not " + Describe(t));
    }

    private static void RequireBool(Typed t, string op)
    {
        if (t.Kind != TK.Bool) throw new ExprError("'" + op + "' needs booleans, not " + Describe(t));
    }

    private static string Describe(Typed t) => t.Kind switch
    {
        TK.Enum => "enum " + t.Enum,
        TK.User => "type " + t.User,
        _ => t.Kind.ToString().ToLowerInvariant(),
    };
}
