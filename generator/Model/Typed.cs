using System.Globalization;

namespace FormatGen.Generator.Model;

// Checked expressions: every name resolved to what it refers to, every node
// typed. The checker (TypeChecker) builds them and reports every problem; the
// emitter only prints them. Records, so models holding them stay equatable.

/// <summary>Box: the model a reader boxes for what it reads later (<see cref="TLate"/>), Name its type.</summary>
internal enum TKind { Error, Int, Bool, Float, Str, Bytes, Enum, User, Array, Io, Box }

/// <summary>
/// The type of a value. Integers are 64-bit: signed, or unsigned (<see cref="U64"/>)
/// when they come from a u8. <see cref="Name"/> is the C# name of an enum or a
/// user type (or of a switch's union interface when <see cref="Union"/>).
/// </summary>
internal sealed record ExprType(TKind Kind, bool U64 = false, string? Name = null, ExprType? Element = null, bool Union = false)
{
    public static readonly ExprType Error = new(TKind.Error);
    public static readonly ExprType Long = new(TKind.Int);
    public static readonly ExprType ULong = new(TKind.Int, U64: true);
    public static readonly ExprType Bool = new(TKind.Bool);
    public static readonly ExprType Float = new(TKind.Float);
    public static readonly ExprType Str = new(TKind.Str);
    public static readonly ExprType Bytes = new(TKind.Bytes);
    public static readonly ExprType Io = new(TKind.Io);

    /// <summary>Kaitai's 'struct' parameter type: any user type, as an object.</summary>
    public static readonly ExprType AnyStruct = new(TKind.User, Name: "global::System.Object");

    public static ExprType Enum(string cs) => new(TKind.Enum, Name: cs);
    public static ExprType User(string cs) => new(TKind.User, Name: cs);
    public static ExprType ArrayOf(ExprType element) => new(TKind.Array, Element: element);

    public bool IsError => Kind == TKind.Error;

    /// <summary>In the user's words, for messages.</summary>
    public string Describe() => Kind switch
    {
        TKind.Int => "an integer",
        TKind.Bool => "a boolean",
        TKind.Float => "a float",
        TKind.Str => "a string",
        TKind.Bytes => "a byte array",
        TKind.Enum => "enum " + Name,
        TKind.User when Name == "global::System.Object" => "any type (struct)",
        TKind.User => (Union ? "one of the types of " : "type ") + Name,
        TKind.Array => "a list of " + (Element?.Describe() ?? "?"),
        TKind.Io => "a stream",
        TKind.Box => "the model of " + Name,
        _ => "an error",
    };
}

/// <summary>What a bare name refers to.</summary>
internal enum RefKind
{
    /// <summary>A field of the type (Id: its ksy id).</summary>
    Field,
    /// <summary>A parameter of the type.</summary>
    Param,
    /// <summary>A value instance of the type.</summary>
    Instance,
    /// <summary><c>_index</c>: the element index inside a repeat.</summary>
    Index,
    /// <summary><c>_</c>: the element just read (repeat-until, count predicates).</summary>
    Element,
    /// <summary><c>_</c> in a <c>valid</c> rule or its message: the field's value.</summary>
    Value,
    /// <summary><c>_io.size</c>: octets of the type's stream.</summary>
    IoSize,
    /// <summary><c>_io.eos</c>: at the end of the type's stream.</summary>
    IoEos,
    /// <summary><c>_io.pos</c>: position in the type's stream.</summary>
    IoPos,
    /// <summary><c>_io</c> as a value (an argument of type io): the type's stream.</summary>
    IoValue,
    /// <summary><c>_root._io</c> as a value: the whole input.</summary>
    RootIoValue,
    /// <summary><c>_root._io.size</c>: the octets of the whole input.</summary>
    RootIoSize,
}

internal abstract record TExpr(ExprType Type);

internal sealed record TError() : TExpr(ExprType.Error);

internal sealed record TInt(ulong Value) : TExpr(Value <= long.MaxValue ? ExprType.Long : ExprType.ULong)
{
    public string Code => Value <= long.MaxValue ? Value.ToString(CultureInfo.InvariantCulture) + "L" : "0x" + Value.ToString("x", CultureInfo.InvariantCulture) + "UL";
}

internal sealed record TBool(bool Value) : TExpr(ExprType.Bool);

internal sealed record TFloat(double Value) : TExpr(ExprType.Float);

internal sealed record TStr(string Value) : TExpr(ExprType.Str);

internal sealed record TBytes(EquatableArray<byte> Value) : TExpr(ExprType.Bytes);

/// <summary>A list literal of values that are not all octets.</summary>
internal sealed record TList(EquatableArray<TExpr> Items, ExprType T) : TExpr(T);

internal sealed record TIndex(TExpr Target, TExpr Index, ExprType T) : TExpr(T);

/// <summary>x.as&lt;T&gt;: a value of a switch seen as one of its case types, or a number as another width.</summary>
internal sealed record TCast(TExpr Target, ExprType T) : TExpr(T);

/// <summary>A method with arguments: substring(a, b), to_i(radix), to_s(encoding).</summary>
internal sealed record TMethod(TExpr Target, string Name, EquatableArray<TExpr> Args, ExprType T) : TExpr(T);

internal sealed record TEnumConst(string EnumCs, string MemberCs) : TExpr(ExprType.Enum(EnumCs));

internal sealed record TRef(RefKind Kind, string Id, ExprType T) : TExpr(T);

/// <summary><c>_root.a.b</c> or <c>_parent.a.b</c>: a value read outside the type, passed down.</summary>
internal sealed record TPath(bool Root, string Path, ExprType T) : TExpr(T);

/// <summary>
/// _root.a.b or _parent.a.b read by an instance (lazily) where the type is
/// read before a or b: Value is an expression of the owner (the root or the
/// parent), evaluated on its model once built (the model the reader boxes and
/// passes down, Kaitai's _root and _parent). Not walked into: it belongs to the owner.
/// </summary>
internal sealed record TLate(bool Root, string OwnerCs, string Shown, TExpr Value, ExprType T) : TExpr(T);

/// <summary>The box a reader fills with the model it builds (<see cref="TLate"/>), passed down as a hidden value.</summary>
internal sealed record TBox(string OwnerCs) : TExpr(new ExprType(TKind.Box, Name: OwnerCs));

/// <summary>A field or instance of a user-typed value.</summary>
internal sealed record TMember(TExpr Target, string Id, bool Instance, ExprType T) : TExpr(T);

/// <summary>A built-in property: size, length, to_i, to_s, first, last, min, max, reverse.</summary>
internal sealed record TBuiltin(TExpr Target, string Name, ExprType T) : TExpr(T);

/// <summary><c>list.count(pred)</c> over a repeated field of the type.</summary>
internal sealed record TCount(string Field, TExpr Predicate) : TExpr(ExprType.Long);

internal sealed record TUnary(string Op, TExpr Operand, ExprType T) : TExpr(T);

internal sealed record TBinary(string Op, TExpr Left, TExpr Right, ExprType T) : TExpr(T);

internal sealed record TTernary(TExpr Cond, TExpr Then, TExpr Else, ExprType T) : TExpr(T);

internal static class TExprs
{
    /// <summary>The expressions an expression is made of, one level down.</summary>
    public static System.Collections.Generic.IEnumerable<TExpr> Children(TExpr e)
    {
        switch (e)
        {
            case TMember m: yield return m.Target; break;
            case TBuiltin b: yield return b.Target; break;
            case TCount c: yield return c.Predicate; break;
            case TUnary u: yield return u.Operand; break;
            case TBinary b: yield return b.Left; yield return b.Right; break;
            case TTernary t: yield return t.Cond; yield return t.Then; yield return t.Else; break;
            case TIndex ix: yield return ix.Target; yield return ix.Index; break;
            case TCast c: yield return c.Target; break;
            case TMethod m:
                yield return m.Target;
                foreach (var a in m.Args) yield return a;
                break;
            case TList l:
                foreach (var i in l.Items) yield return i;
                break;
        }
    }

    /// <summary>Visits an expression and everything it is made of.</summary>
    public static void Walk(TExpr e, System.Action<TExpr> visit)
    {
        visit(e);
        foreach (var c in Children(e)) Walk(c, visit);
    }

    /// <summary>
    /// Whether evaluating the expression can fail on some input (an index out
    /// of range, first of an empty list, a division by zero, to_i of text that
    /// is no number, .as of the wrong type), not counting instances it reads.
    /// </summary>
    public static bool MayFail(TExpr e)
    {
        bool fails = false;
        Walk(e, x => fails |= x switch
        {
            TIndex or TCast { Type.Kind: TKind.User } => true,
            TMethod { Name: "to_i" } => true,
            TBuiltin { Name: "first" or "last" or "min" or "max" } => true,
            TBuiltin { Name: "to_i", Target.Type.Kind: TKind.Str } => true,
            TLate => true,
            TBinary { Op: "/" or "%" } b => b.Left.Type.Kind != TKind.Float && b.Right.Type.Kind != TKind.Float,
            _ => false,
        });
        return fails;
    }
}
