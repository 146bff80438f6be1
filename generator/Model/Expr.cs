using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace FormatGen.Generator.Model;

// Kaitai expression syntax tree. Records, so models holding them stay equatable.

internal abstract record Expr;
internal sealed record IntLit(ulong Value) : Expr;
internal sealed record FloatLit(double Value) : Expr;
internal sealed record BoolLit(bool Value) : Expr;
internal sealed record StrLit(string Value) : Expr;
/// <summary>[a, b, c]: a byte array when every element is an integer literal 0-255, else a list.</summary>
internal sealed record ArrayLit(EquatableArray<Expr> Items) : Expr;
internal sealed record NameRef(string Id) : Expr;
internal sealed record EnumLit(string Enum, string Member) : Expr;
internal sealed record MemberRef(Expr Target, string Name) : Expr;
internal sealed record MethodCall(Expr Target, string Name, EquatableArray<Expr> Args) : Expr
{
    public Expr Arg => Args[0];
}
internal sealed record IndexExpr(Expr Target, Expr Index) : Expr;
/// <summary>x.as&lt;T&gt;: the value seen as type T.</summary>
internal sealed record CastExpr(Expr Target, string TypeName) : Expr;
/// <summary>sizeof&lt;T&gt; or bitsizeof&lt;T&gt;.</summary>
internal sealed record SizeOfExpr(string TypeName, bool Bits) : Expr;
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

    // \xHH and \uHHHH in a string literal: hex digits, or an error of the expression (found by fuzzing: int.Parse threw).
    private static char HexEscape(string digits, char kind)
        => int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v)
            ? (char)v
            : throw new ExprSyntaxException("'\\" + kind + digits + "' in a string literal: \\" + kind + " takes " + (kind == 'x' ? "two" : "four") + " hex digits");

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
                // A float: digits, a point, digits, maybe an exponent (1.5, 2.0e-3, 24000.); not a member access (1.to_s).
                bool hex = s.Substring(start, i - start).StartsWith("0x", StringComparison.OrdinalIgnoreCase);
                if (!hex && i < s.Length && s[i] == '.' && (i + 1 == s.Length || !(char.IsLetter(s[i + 1]) || s[i + 1] == '_')))
                {
                    i++;
                    while (i < s.Length && char.IsDigit(s[i])) i++;
                    if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
                    {
                        i++;
                        if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                        while (i < s.Length && char.IsDigit(s[i])) i++;
                    }
                }
                tokens.Add(s.Substring(start, i - start));
                continue;
            }
            if (c == '\'' || c == '"')
            {
                // A string literal, kept as one token: its quote, then its text (escapes decoded for double quotes).
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= s.Length) throw new ExprSyntaxException("a string literal has no closing " + c);
                    char d = s[i++];
                    if (d == c) break;
                    if (d == '\\' && c == '"')
                    {
                        if (i >= s.Length) throw new ExprSyntaxException("a string literal ends in '\\'");
                        char x = s[i++];
                        switch (x)
                        {
                            case 'n': sb.Append('\n'); break;
                            case 't': sb.Append('\t'); break;
                            case 'r': sb.Append('\r'); break;
                            case '0': sb.Append('\0'); break;
                            case 'a': sb.Append('\a'); break;
                            case 'b': sb.Append('\b'); break;
                            case 'f': sb.Append('\f'); break;
                            case 'v': sb.Append('\v'); break;
                            case 'e': sb.Append('\u001b'); break;
                            case 'x' when i + 1 < s.Length:
                                sb.Append(HexEscape(s.Substring(i, 2), 'x'));
                                i += 2;
                                break;
                            case 'u' when i + 3 < s.Length:
                                sb.Append(HexEscape(s.Substring(i, 4), 'u'));
                                i += 4;
                                break;
                            default: sb.Append(x); break;
                        }
                        continue;
                    }
                    sb.Append(d);
                }
                tokens.Add("\"" + sb);
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
            if ("+-*/%&|^~<>()?:.,![]".IndexOf(c) >= 0) { tokens.Add(c.ToString()); i++; continue; }
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
        if (Accept("+")) return ParseUnary();
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
                if (name == "as" && Accept("<"))
                {
                    e = new CastExpr(e, TypeName());
                    continue;
                }
                if (Accept("("))
                {
                    var args = new List<Expr>();
                    if (!Accept(")"))
                    {
                        do args.Add(ParseTernary()); while (Accept(","));
                        Expect(")");
                    }
                    e = new MethodCall(e, name, args.ToEquatable());
                }
                else e = new MemberRef(e, name);
                continue;
            }
            if (Accept("["))
            {
                var index = ParseTernary();
                Expect("]");
                e = new IndexExpr(e, index);
                continue;
            }
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
        if (t == "[")
        {
            var items = new List<Expr>();
            if (!Accept("]"))
            {
                // A trailing comma is allowed, as Kaitai allows it: [1, 2,].
                do
                {
                    if (Peek == "]") break;
                    items.Add(ParseTernary());
                }
                while (Accept(","));
                Expect("]");
            }
            return new ArrayLit(items.ToEquatable());
        }
        if (t[0] == '"') return new StrLit(t.Substring(1));
        if ((t == "sizeof" || t == "bitsizeof") && Accept("<")) return new SizeOfExpr(TypeName(), t == "bitsizeof");
        if (char.IsDigit(t[0]))
        {
            if (Syntax.KsyParser.TryInt(t, out var v)) return new IntLit(v);
            if (t.IndexOfAny(new[] { '.', 'e', 'E' }) > 0 && !t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(t.EndsWith(".", StringComparison.Ordinal) ? t + "0" : t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return new FloatLit(d);
            throw new ExprSyntaxException("bad number '" + t + "'");
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

    /// <summary>A type name between &lt; and &gt; (after the &lt;): u4, foo, foo::bar.</summary>
    private string TypeName()
    {
        var name = Peek ?? throw new ExprSyntaxException("expected a type name after '<'");
        _i++;
        Expect(">");
        return name;
    }

    /// <summary>The expression in Kaitai syntax (for messages and docs).</summary>
    public static string Show(Expr e) => e switch
    {
        IntLit i => i.Value < 10 ? i.Value.ToString(CultureInfo.InvariantCulture) : "0x" + i.Value.ToString("x", CultureInfo.InvariantCulture),
        BoolLit b => b.Value ? "true" : "false",
        NameRef n => n.Id,
        EnumLit en => en.Enum + "::" + en.Member,
        MemberRef m => Show(m.Target) + "." + m.Name,
        MethodCall c => Show(c.Target) + "." + c.Name + "(" + string.Join(", ", c.Args.Select(Show)) + ")",
        FloatLit f => f.Value.ToString("R", CultureInfo.InvariantCulture),
        StrLit s => "'" + s.Value + "'",
        ArrayLit a => "[" + string.Join(", ", a.Items.Select(Show)) + "]",
        IndexExpr ix => Show(ix.Target) + "[" + Show(ix.Index) + "]",
        CastExpr ce => Show(ce.Target) + ".as<" + ce.TypeName + ">",
        SizeOfExpr so => (so.Bits ? "bitsizeof<" : "sizeof<") + so.TypeName + ">",
        Unary u => (u.Op == "not" ? "not " : u.Op) + Show(u.Operand),
        Binary b => "(" + Show(b.Left) + " " + b.Op + " " + Show(b.Right) + ")",
        Ternary t => "(" + Show(t.Cond) + " ? " + Show(t.Then) + " : " + Show(t.Else) + ")",
        _ => "?",
    };
}
