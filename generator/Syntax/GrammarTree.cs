namespace FormatGen.Generator.Syntax;

// The grammar as written: what the YAML says, with positions, nothing resolved.

internal sealed record Scalar(string Text, Loc Loc);

internal sealed record GrammarFile(
    string Path,
    string? Namespace,
    TypeSpec? Root,
    EquatableArray<DiagInfo> Diagnostics,
    EquatableArray<Scalar> Imports = default,
    bool Writers = true);

/// <summary>
/// A grammar with every grammar it imports, directly or not (dependencies
/// before their importers), and what went wrong finding them. The generator's
/// unit of work: it changes only when one of these files does.
/// </summary>
internal sealed record GrammarUnit(GrammarFile Main, EquatableArray<GrammarFile> Imports, EquatableArray<DiagInfo> Diagnostics, bool Blocked);

internal sealed record TypeSpec(
    string Id,
    Loc Loc,
    string? Doc,
    EndianSpec? Endian,
    EquatableArray<AttrSpec> Seq,
    EquatableArray<ParamSpec> Params,
    EquatableArray<InstanceSpec> Instances,
    EquatableArray<TypeSpec> Types,
    EquatableArray<EnumSpec> Enums,
    EquatableArray<CheckSpec> Checks,
    Scalar? Encoding = null,
    Scalar? BitEndian = null);

/// <summary>Fixed ("le"/"be") or calculated (switch-on) byte order.</summary>
internal sealed record EndianSpec(string? Fixed, Scalar? SwitchOn, EquatableArray<EndianCase> Cases, Loc Loc);

internal sealed record EndianCase(Scalar Key, string Value);

internal sealed record AttrSpec(
    string Id,
    Loc Loc,
    string? Doc,
    Scalar? Type,
    SwitchSpec? Switch,
    Scalar? Size,
    bool SizeEos,
    string? Repeat,
    Loc? RepeatLoc,
    Scalar? RepeatExpr,
    Scalar? RepeatUntil,
    Scalar? If,
    EquatableArray<Scalar> Contents,
    ValidSpec? Valid,
    Scalar? Enum,
    string? Rule,
    string? Severity,
    bool Stream,
    Scalar? Expect = null,
    Scalar? Found = null,
    bool Limit = false,
    TermSpec? Term = null,
    Scalar? Encoding = null,
    Scalar? Process = null,
    bool Handoff = false);

/// <summary>How a byte array or string ends: Kaitai's terminator, include, consume, eos-error and pad-right.</summary>
internal sealed record TermSpec(Scalar? Terminator, bool Include, bool Consume, bool EosError, Scalar? PadRight, Loc Loc);

internal sealed record SwitchSpec(Scalar On, EquatableArray<CaseSpec> Cases, Loc Loc);

internal sealed record CaseSpec(Scalar Key, Scalar Type);

internal sealed record ValidSpec(
    Loc Loc,
    Scalar? Eq,
    Scalar? Min,
    Scalar? Max,
    EquatableArray<Scalar> AnyOf,
    bool InEnum,
    Scalar? Expr);

internal sealed record ParamSpec(string Id, Scalar Type, Loc Loc, string? Doc, Scalar? Enum = null);

/// <summary>A value instance (Value), or a parse instance (Parse: what to read; Pos and Io: where).</summary>
internal sealed record InstanceSpec(string Id, Loc Loc, Scalar? Value, Scalar? Enum, string? Doc, AttrSpec? Parse = null, Scalar? Pos = null, Scalar? Io = null, Scalar? If = null);

internal sealed record EnumSpec(string Id, Loc Loc, EquatableArray<EnumMemberSpec> Members);

internal sealed record EnumMemberSpec(ulong Value, string Name, string? Doc, Loc Loc, bool Negative = false);

/// <summary>A FormatGen rule (<c>-fg-checks</c>) on a type; expect and found are message templates.</summary>
internal sealed record CheckSpec(string Rule, Scalar Expr, string Severity, string? Doc, Loc Loc, Scalar? Expect = null, Scalar? Found = null);
