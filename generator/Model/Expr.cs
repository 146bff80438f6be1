using System;
using System.Collections.Generic;
using System.Globalization;

namespace FormatGen.Generator.Model;

// Kaitai expression syntax tree. Records, so models holding them stay equatable.

internal abstract record Expr;
internal sealed record IntLit(ulong Value) : Expr;
internal sealed record BoolLit(bool Value) : Expr;
internal sealed record NameRef(string Id) : Expr;
internal sealed record EnumLit(string Enum, string Member) : Expr;
internal sealed record MemberRef(Expr Target, string Name) : Expr;
internal sealed record MethodCall(Expr Target, string Name, Expr Arg) : Expr;
internal sealed record Unary(string Op, Expr Operand) : Expr;
internal sealed record Binary(string Op, Expr Left, Expr Right) : Expr;
internal sealed record Ternary(Expr Cond, Expr Then, Expr Else) : Expr;

internal sealed class ExprSyntaxException : Exception
{
    public ExprSyntaxException(string message) : base(message) { }
}

/// <summary>Parses Kaitai's expression language (the subset DESIGN.md lists).</summary>
internal sealed class ExprParser
{
    private readonly List<string> _tokens;
    private int _i;

    private ExprParser(List<string> tokens) => _tokens = tokens;

    public static Expr Parse(string text)
    {
        var p = new ExprParser(Lex(text));
        var e = p.ParseTernary();
        if (p._i != p._tokens.Count) throw new ExprSyntaxException("unexpected '" + p._tokens[p._i] + "'");
        return e;
    }

    private static List<string> Lex(string s)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsDigit(c))
            {
                int start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_')) i++;
                tokens.Add(s.Substring(start, i - start));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_' ||
                                        (s[i] == ':' && i + 1 < s.Length && s[i + 1] == ':' && i + 2 < s.Length && (char.IsLetter(s[i + 2]) || s[i + 2] == '_'))))
                    i += s[i] == ':' ? 2 : 1;
                tokens.Add(s.Substring(start, i - start));
                continue;
            }
            string two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "<<" or ">>" or "==" or "!=" or "<=" or ">=") { tokens.Add(two); i += 2; continue; }
            if ("+-*/%&|^~<>()?:.,!".IndexOf(c) >= 0) { tokens.Add(c.ToString()); i++; continue; }
            if (c == '\'' || c == '"') throw new ExprSyntaxException("string literals are not supported");
            throw new ExprSyntaxException("unexpected character '" + c + "'");
        }
        return tokens;
    }

    private string? Peek => _i < _tokens.Count ? _tokens[_i] : null;

    private bool Accept(string t)
    {
        if (Peek == t) { _i++; return true; }
        return false;
    }

    private void Expect(string t)
    {
        if (!Accept(t)) throw new ExprSyntaxException("expected '" + t + "'" + (Peek is null ? " at the end" : " before '" + Peek + "'"));
    }

    private Expr ParseTernary()
    {
        var cond = ParseOr();
        if (!Accept("?")) return cond;
        var then = ParseTernary();
        Expect(":");
        var els = ParseTernary();
        return new Ternary(cond, then, els);
    }

    private Expr ParseOr()
    {
        var e = ParseAnd();
        while (Accept("or")) e = new Binary("or", e, ParseAnd());
        return e;
    }

    private Expr ParseAnd()
    {
        var e = ParseNot();
        while (Accept("and")) e = new Binary("and", e, ParseNot());
        return e;
    }

    private Expr ParseNot() => Accept("not") ? new Unary("not", ParseNot()) : ParseComparison();

    private Expr ParseComparison()
    {
        var e = ParseBitOr();
        while (Peek is "==" or "!=" or "<" or "<=" or ">" or ">=")
        {
            var op = _tokens[_i++];
            e = new Binary(op, e, ParseBitOr());
        }
        return e;
    }

    private Expr ParseBitOr() => Left(ParseBitXor, "|");
    private Expr ParseBitXor() => Left(ParseBitAnd, "^");
    private Expr ParseBitAnd() => Left(ParseShift, "&");
    private Expr ParseShift() => Left(ParseAdd, "<<", ">>");
    private Expr ParseAdd() => Left(ParseMul, "+", "-");
    private Expr ParseMul() => Left(ParseUnary, "*", "/", "%");

    private Expr Left(Func<Expr> next, params string[] ops)
    {
        var e = next();
        while (Peek is { } p && Array.IndexOf(ops, p) >= 0)
        {
            _i++;
            e = new Binary(p, e, next());
        }
        return e;
    }

    private Expr ParseUnary()
    {
        if (Accept("-")) return new Unary("-", ParseUnary());
        if (Accept("~")) return new Unary("~", ParseUnary());
        if (Accept("!")) return new Unary("not", ParseUnary());
        return ParsePostfix();
    }

    private Expr ParsePostfix()
    {
        var e = ParsePrimary();
        while (true)
        {
            if (Accept("."))
            {
                var name = Peek ?? throw new ExprSyntaxException("expected a name after '.'");
                _i++;
                if (Accept("("))
                {
                    var arg = ParseTernary();
                    Expect(")");
                    e = new MethodCall(e, name, arg);
                }
                else e = new MemberRef(e, name);
                continue;
            }
            if (Peek == "[") throw new ExprSyntaxException("indexing is not supported");
            return e;
        }
    }

    private Expr ParsePrimary()
    {
        var t = Peek ?? throw new ExprSyntaxException("unexpected end of expression");
        _i++;
        if (t == "(")
        {
            var e = ParseTernary();
            Expect(")");
            return e;
        }
        if (char.IsDigit(t[0]))
        {
            if (!Syntax.KsyParser.TryInt(t, out var v)) throw new ExprSyntaxException("bad number '" + t + "'");
            return new IntLit(v);
        }
        if (t == "true") return new BoolLit(true);
        if (t == "false") return new BoolLit(false);
        if (char.IsLetter(t[0]) || t[0] == '_')
        {
            int sep = t.LastIndexOf("::", StringComparison.Ordinal);
            if (sep > 0) return new EnumLit(t.Substring(0, sep), t.Substring(sep + 2));
            return new NameRef(t);
        }
        throw new ExprSyntaxException("unexpected '" + t + "'");
    }

    /// <summary>The expression in Kaitai syntax (for messages and docs).</summary>
    public static string Show(Expr e) => e switch
    {
        IntLit i => i.Value < 10 ? i.Value.ToString(CultureInfo.InvariantCulture) : "0x" + i.Value.ToString("x", CultureInfo.InvariantCulture),
        BoolLit b => b.Value ? "true" : "false",
        NameRef n => n.Id,
        EnumLit en => en.Enum + "::" + en.Member,
        MemberRef m => Show(m.Target) + "." + m.Name,
        MethodCall c => Show(c.Target) + "." + c.Name + "(" + Show(c.Arg) + ")",
        Unary u => (u.Op == "not" ? "not " : u.Op) + Show(u.Operand),
        Binary b => "(" + Show(b.Left) + " " + b.Op + " " + Show(b.Right) + ")",
        Ternary t => "(" + Show(t.Cond) + " ? " + Show(t.Then) + " : " + Show(t.Else) + ")",
        _ => "?",
    };
}
