using System.Collections.Generic;
using System.Linq;

namespace FormatGen.Generator.Model;

// The checked grammar: every name resolved, derived fields inferred. Immutable,
// equatable, no Roslyn symbols: the emitter's only input.

internal sealed record GrammarModel(
    string File,
    string Namespace,
    string RootCsName,
    EquatableArray<TypeModel> Types,
    EquatableArray<EnumModel> Enums,
    StreamModel? Stream,
    EquatableArray<DiagInfo> Diagnostics,
    bool Blocked = false,
    bool Writers = true);

internal enum EndianKind { BigEndian, LittleEndian, Switch, Inherit }

internal sealed record EndianModel(EndianKind Kind, ExprText? SwitchOn, EquatableArray<EndianCaseModel> Cases);

internal sealed record EndianCaseModel(ExprText Key, bool LittleEndian);

/// <summary>
/// A parsed expression with the text and place it came from, and, once the
/// checker has run, its checked form (null until then, or when it has a mistake).
/// </summary>
internal sealed record ExprText(Expr Expr, string Text, Loc Loc, TExpr? Checked = null)
{
    /// <summary>The checked expression; the emitter runs only on models without diagnostics.</summary>
    public TExpr T => Checked ?? throw new System.InvalidOperationException("'" + Text + "' was not checked");
}

internal sealed record TypeModel(
    string KsyId,
    string CsName,
    string? ParentCsName,
    Loc Loc,
    string? Doc,
    EndianModel Endian,
    EquatableArray<FieldModel> Fields,
    EquatableArray<ParamModel> Params,
    EquatableArray<InstanceModel> Instances,
    EquatableArray<CheckModel> Checks,
    EquatableArray<string> Unions,
    EquatableArray<string> Exports,
    bool IsRoot,
    EquatableArray<string> Scope,
    EquatableArray<HiddenModel> Needs = default,
    EquatableArray<ProvidedModel> Provides = default,
    bool KeepsSlack = false,
    bool IsStruct = false,
    bool External = false,
    EquatableArray<ParseInstanceModel> ParseInstances = default,
    bool Nests = false,
    bool KeepsIo = false);

/// <summary>
/// A parse instance: what it reads (a field, read lazily when first asked for,
/// then kept), from where (Pos in the type's stream, or the root's; without
/// Pos, where the type's fields end).
/// </summary>
internal sealed record ParseInstanceModel(string Id, string CsName, FieldModel Field, ExprText? Pos, bool RootIo, string? Doc, Loc Loc, string? IoParam = null, ExprText? IoExpr = null);

/// <summary>A value a type reads from _root or _parent (Path relative to that head); it is passed down as a hidden argument.</summary>
internal sealed record HiddenModel(bool Root, string Path, ExprType Type);

/// <summary>What a type computes, in its own scope, for a value its children read as _root.Path or _parent.Path.</summary>
internal sealed record ProvidedModel(bool Root, string Path, TExpr Value);

internal enum FieldKind { Primitive, Bytes, User, Switch, Str }

internal enum RepeatKind { None, Expr, Until, Eos }

internal enum Derivation { None, Constant, Count, Size, Discriminator }

internal sealed record FieldModel(
    string Id,
    string CsName,
    Loc Loc,
    string? Doc,
    FieldKind Kind,
    string? Primitive,
    string? UserType,
    EquatableArray<ExprText> Args,
    SwitchModel? Switch,
    string? EnumCsName,
    ExprText? Size,
    bool SizeEos,
    RepeatKind Repeat,
    ExprText? RepeatExpr,
    ExprText? RepeatUntil,
    ExprText? If,
    EquatableArray<byte> Contents,
    ValidModel? Valid,
    Derivation Derivation,
    string? DerivedFrom,
    bool Stream,
    string? ByteOrder = null,
    bool Limit = false,
    TermModel? Term = null,
    string? Encoding = null,
    ProcessModel? Process = null,
    bool Handoff = false);

/// <summary>Kaitai's process: xor (Arg: a byte or a key), rol or ror (Arg: bits), zlib.</summary>
internal sealed record ProcessModel(string Kind, ExprText? Arg, Loc Loc);

/// <summary>
/// How a byte array or string ends, in Kaitai's terms: a terminator octet
/// (-1: none), whether the value includes it and the read consumes it, whether
/// its absence is an error, and a pad octet stripped from the right (-1: none).
/// </summary>
internal sealed record TermModel(int Terminator, bool Include, bool Consume, bool EosError, int PadRight);

/// <summary>
/// A switch: its key, the union interface its case types implement, the
/// record for octets no case reads, the cases by key, the default case (_),
/// and the records that hold a primitive or string case's value.
/// </summary>
internal sealed record SwitchModel(
    ExprText On,
    string InterfaceName,
    string UnknownName,
    EquatableArray<CaseModel> Cases,
    Loc Loc,
    CaseModel? Default = null,
    EquatableArray<WrapperModel> Wrappers = default)
{
    /// <summary>Every case, the default last.</summary>
    public IEnumerable<CaseModel> AllCases => Default is null ? Cases : Cases.Concat(new[] { Default });

    /// <summary>
    /// Whether a writer can derive the key from the value's type: each case
    /// type has one key and there is no default (which stands for any other key).
    /// </summary>
    public bool KeyDerivable => Default is null && Cases.GroupBy(c => c.TypeCsName).All(g => g.Count() == 1);

    /// <summary>
    /// What the switch's value is in expressions when every case holds an
    /// integer ("int", "uint" with a u8) or every case a string ("str"), as
    /// Kaitai gives such a switch that type; null when its cases are types.
    /// </summary>
    public string? ValueKind
    {
        get
        {
            var kinds = AllCases.Select(c => Wrappers.FirstOrDefault(w => w.CsName == c.TypeCsName)).ToList();
            if (kinds.Count == 0 || kinds.Any(w => w is null)) return null;
            if (kinds.All(w => w!.Kind == FieldKind.Str)) return "str";
            if (kinds.All(w => w!.Kind == FieldKind.Primitive && w.Primitive is not ("f4" or "f8" or "b1")))
                return kinds.Any(w => w!.Primitive is "u8" or "b64") ? "uint" : "int";
            return null;
        }
    }
}

/// <summary>A case: its key (none for the default), its type, and the type's arguments.</summary>
internal sealed record CaseModel(ExprText? Key, string TypeCsName, EquatableArray<ExprText> Args);

/// <summary>
/// A generated record holding the value of a primitive (integer, float) or
/// string case of a switch, so that it can be one of the switch's values.
/// </summary>
internal sealed record WrapperModel(string CsName, string KsyType, FieldKind Kind, string? Primitive, string? ByteOrder, string? Encoding, TermModel? Term, bool KeepsSlack);

internal sealed record ValidModel(
    Loc Loc,
    string Rule,
    string Severity,
    ExprText? Eq,
    ExprText? Min,
    ExprText? Max,
    EquatableArray<ExprText> AnyOf,
    bool InEnum,
    ExprText? Expr,
    string? Doc,
    EquatableArray<TemplatePart> Expect,
    EquatableArray<TemplatePart> Found);

/// <summary>
/// A parameter: an integer (Primitive, maybe an enum), a bool, or (Type) a
/// float, string, byte array, user type, any type ('struct'), stream ('io')
/// or a list of one of those.
/// </summary>
internal sealed record ParamModel(string Id, string CsName, string Primitive, string? EnumCsName, Loc Loc, string? Doc, ExprType? Type = null)
{
    /// <summary>The parameter's type in expressions.</summary>
    public ExprType ValueType => Type ?? (EnumCsName is not null ? ExprType.Enum(EnumCsName) : Primitive == "bool" ? ExprType.Bool : Primitive == "u8" ? ExprType.ULong : ExprType.Long);
}

/// <summary>A value instance; with If, absent (null) when the condition is false.</summary>
internal sealed record InstanceModel(string Id, string CsName, ExprText Value, string? EnumCsName, string? Doc, Loc Loc, ExprText? If = null);

internal sealed record CheckModel(string Rule, ExprText Expr, string Severity, string? Doc, Loc Loc,
    EquatableArray<TemplatePart> Expect, EquatableArray<TemplatePart> Found);

/// <summary>
/// One piece of a message template (a rule's "expected" and "found" text):
/// literal text, or an expression whose value is printed (in hex when asked).
/// An empty template means "not given".
/// </summary>
internal sealed record TemplatePart(string Text, ExprText? Expr, bool Hex);

/// <summary>An enum; <see cref="Signed"/> when a member is negative (its C# type is then long-backed).</summary>
internal sealed record EnumModel(string KsyId, string CsName, EquatableArray<EnumMemberModel> Members, EquatableArray<string> Scope, bool Signed = false, bool External = false,
    int Bytes = 8)
{
    /// <summary>The C# underlying type: as wide as the widest integer the grammar reads the enum from.</summary>
    public string Underlying => (Signed, Bytes) switch
    {
        (false, 1) => "byte", (false, 2) => "ushort", (false, 4) => "uint", (false, _) => "ulong",
        (true, 1) => "sbyte", (true, 2) => "short", (true, 4) => "int", (true, _) => "long",
    };
}

/// <summary>An enum member; a negative value is kept as its two's complement.</summary>
internal sealed record EnumMemberModel(string KsyName, string CsName, ulong Value, string? Doc);

/// <summary>
/// The path from the root to the streamed repeat: each step is a field of a
/// user type; the last step is the repeated field read one element at a time.
/// </summary>
internal sealed record StreamModel(EquatableArray<StreamStep> Steps, string ElementCsName);

internal sealed record StreamStep(string TypeCsName, string FieldId);
