using System;
using System.Collections.Generic;
using System.Linq;

namespace FormatGen.Generator.Model;

/// <summary>
/// Resolves every name of every expression in a grammar and types it, as
/// Kaitai's compiler does in its precompile passes. Each mistake is reported
/// once, at its place; an expression with a mistake stays unchecked and what
/// depends on it is not reported again. The emitter only prints the result.
/// </summary>
internal sealed class TypeChecker
{
    private readonly Dictionary<string, TypeModel> _types;
    private readonly TypeModel _root;
    private readonly Func<string, TypeModel, string?> _resolveEnum;
    private readonly Func<string, TypeModel, string?> _resolveType;
    private readonly Func<TypeModel, long?> _staticBits;
    private readonly Dictionary<string, EnumModel> _enums;
    private readonly List<DiagInfo> _diags;
    private readonly Dictionary<(string Type, string Id), ExprType> _instanceTypes = new();
    private readonly HashSet<(string Type, string Id)> _inProgress = new();
    private readonly Dictionary<string, List<(TypeModel Parent, int Field, string? Instance)>> _users = new(StringComparer.Ordinal);
    private readonly HashSet<string> _once = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<HiddenModel>> _needs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ProvidedModel>> _provides = new(StringComparer.Ordinal);
    /// <summary>Types whose stream is read from outside (x._io): their models keep it.</summary>
    private readonly HashSet<string> _keepsIo = new(StringComparer.Ordinal);

    /// <summary>Where an expression is evaluated, and so what its names may mean.</summary>
    private sealed record Scope(TypeModel Type, int Visible, ExprType? Element = null, ExprType? Value = null, bool Index = false, bool Counts = false, bool Model = false, string? Self = null)
    {
        public const int All = int.MaxValue;
    }

    private TypeChecker(List<TypeModel> types, List<EnumModel> enums, Func<string, TypeModel, string?> resolveEnum, Func<string, TypeModel, string?> resolveType,
        Func<TypeModel, long?> staticSize, List<DiagInfo> diags)
    {
        _resolveType = resolveType;
        _staticBits = staticSize;
        _types = types.ToDictionary(t => t.CsName, StringComparer.Ordinal);
        _root = types.First(t => t.IsRoot);
        _enums = enums.ToDictionary(e => e.CsName, StringComparer.Ordinal);
        _resolveEnum = resolveEnum;
        _diags = diags;
        foreach (var p in types)
            for (int i = 0; i < p.Fields.Count; i++)
                foreach (var child in ChildTypes(p.Fields[i]))
                {
                    if (!_users.TryGetValue(child, out var list)) _users[child] = list = new List<(TypeModel, int, string?)>();
                    if (!list.Any(u => u.Parent.CsName == p.CsName)) list.Add((p, i, null));
                }
        // A type read by a parse instance has the instance's type as its parent, all of whose fields are read.
        foreach (var p in types)
            foreach (var pi in p.ParseInstances)
                foreach (var child in ChildTypes(pi.Field))
                {
                    if (!_users.TryGetValue(child, out var list)) _users[child] = list = new List<(TypeModel, int, string?)>();
                    if (!list.Any(u => u.Parent.CsName == p.CsName && u.Instance == pi.Id)) list.Add((p, p.Fields.Count, pi.Id));
                }
    }

    private static IEnumerable<string> ChildTypes(FieldModel f)
    {
        if (f.UserType is not null) yield return f.UserType;
        if (f.Switch is not null) foreach (var c in f.Switch.AllCases) yield return c.TypeCsName;
    }

    /// <summary>Checks every expression; returns the types with their expressions checked.</summary>
    public static List<TypeModel> Check(List<TypeModel> types, List<EnumModel> enums, Func<string, TypeModel, string?> resolveEnum,
        Func<string, TypeModel, string?> resolveType, Func<TypeModel, long?> staticSize, List<DiagInfo> diags)
    {
        if (types.Count == 0) return types;
        var c = new TypeChecker(types, enums, resolveEnum, resolveType, staticSize, diags);
        // Another grammar's types were checked in its own unit.
        var checkedTypes = types.Select(t => t.External ? t : c.CheckType(t)).ToList();
        foreach (var t in checkedTypes.Where(t => !t.External)) c.CheckLateUses(t);
        return checkedTypes.Select(t => t.External ? t : t with
        {
            Needs = (c._needs.TryGetValue(t.CsName, out var n) ? n : new List<HiddenModel>()).ToEquatable(),
            Provides = (c._provides.TryGetValue(t.CsName, out var p) ? p : new List<ProvidedModel>()).ToEquatable(),
            KeepsIo = c._keepsIo.Contains(t.CsName),
        }).ToList();
    }

    // ---- reporting ----

    private TExpr Unknown(Loc loc, string name, string hint = "")
    {
        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownName, loc, name, hint));
        return new TError();
    }

    private TExpr Mismatch(Loc loc, string message)
    {
        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.TypeMismatch, loc, message));
        return new TError();
    }

    private TExpr Unsupported(Loc loc, string what)
    {
        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, loc, what));
        return new TError();
    }

    // ---- the sites of a type ----

    private TypeModel CheckType(TypeModel t)
    {
        var endian = t.Endian;
        if (endian.SwitchOn is { } on)
        {
            var scope = new Scope(t, 0);
            var onT = Expr(on, scope);
            var cases = endian.Cases.Select(c => c with { Key = Key(c.Key, onT, scope, bytes: true) }).ToEquatable();
            endian = endian with { SwitchOn = onT, Cases = cases };
        }
        var fields = new List<FieldModel>();
        for (int i = 0; i < t.Fields.Count; i++) fields.Add(CheckField(t, t.Fields[i], i));
        var all = new Scope(t, Scope.All);
        var instances = t.Instances.Select(inst =>
        {
            var type = InstanceType(t, inst);
            var cond = inst.If is null ? null : Expr(inst.If, new Scope(t, Scope.All, Model: true), ExprType.Bool, "instances/" + inst.Id + "/if");
            return inst with { Value = inst.Value with { Checked = type.IsError ? null : CheckedInstance(t, inst) }, If = cond };
        }).ToEquatable();
        var checks = t.Checks.Select(c =>
        {
            var scope = all with { Counts = true };
            var e = Expr(c.Expr, scope, ExprType.Bool, "-fg-checks/expr");
            return c with { Expr = e, Expect = Template(c.Expect, scope), Found = Template(c.Found, scope) };
        }).ToEquatable();
        var parsed = t.ParseInstances.Select(pi => CheckParseInstance(t, pi)).ToEquatable();
        return t with { Endian = endian, Fields = fields.ToEquatable(), Instances = instances, Checks = checks, ParseInstances = parsed };
    }

    /// <summary>
    /// A parse instance: where and how much it reads are worked out where it is
    /// asked for (all the type's fields read by then); its repeat-until is worked
    /// out as it reads, so it may read only '_' and '_index'.
    /// </summary>
    private ParseInstanceModel CheckParseInstance(TypeModel t, ParseInstanceModel pi)
    {
        var f = CheckField(t, pi.Field, Scope.All, model: true);
        if (f.RepeatUntil?.Checked is { } until)
        {
            string? other = null;
            TExprs.Walk(until, x => other ??= x switch
            {
                TRef { Kind: RefKind.Element or RefKind.Index } => null,
                TRef r => r.Id,
                TPath p => (p.Root ? "_root." : "_parent.") + p.Path,
                _ => null,
            });
            if (other is not null)
            {
                Unsupported(f.RepeatUntil.Loc, "A repeat-until of a parse instance that reads '" + other + "' (only '_' and '_index')");
                f = f with { RepeatUntil = f.RepeatUntil with { Checked = null } };
            }
        }
        var pos = pi.Pos is null ? null : Expr(pi.Pos, new Scope(t, Scope.All, Model: true), ExprType.Long, "pos");
        var io = pi.IoExpr is null ? null : Expr(pi.IoExpr, new Scope(t, Scope.All, Model: true), ExprType.Io, "io");
        return pi with { Field = f, Pos = pos, IoExpr = io };
    }

    private FieldModel CheckField(TypeModel t, FieldModel f, int index, bool model = false)
    {
        // Each element of a repeat may read the elements before it (entries[_index - 1]).
        var scope = new Scope(t, index, Index: f.Repeat != RepeatKind.None, Model: model, Self: f.Repeat != RepeatKind.None && index != Scope.All ? f.Id : null);
        var value = ValueType(f);
        var f2 = f with
        {
            Args = Args(f.Args, f.UserType, scope, f.Loc),
            Size = Opt(f.Size, scope, ExprType.Long, "size"),
            RepeatExpr = Opt(f.RepeatExpr, scope with { Index = false, Self = null }, ExprType.Long, "repeat-expr"),
            RepeatUntil = Opt(f.RepeatUntil, scope with { Element = value }, ExprType.Bool, "repeat-until"),
            If = Opt(f.If, scope with { Index = false, Self = null }, ExprType.Bool, "if"),
        };
        // A streamed field's arguments are worked out once, before its first element.
        if (f.Stream)
            foreach (var a in f2.Args)
            {
                bool readsIndex = false;
                if (a.Checked is { } c) TExprs.Walk(c, x => readsIndex |= x is TRef { Kind: RefKind.Index });
                if (!readsIndex) continue;
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, a.Loc, "The arguments of streamed field '" + f.Id
                    + "' are worked out once, before its first element: they cannot read _index ('" + a.Text.Trim() + "')"));
                f2 = f2 with { Args = f2.Args.Select(x => x == a ? x with { Checked = null } : x).ToEquatable() };
            }
        if (f.Process is { Arg: { } parg } proc)
        {
            var arg = proc.Kind == "xor" ? Expr(parg, scope with { Index = false }) : Expr(parg, scope with { Index = false }, ExprType.Long, proc.Kind);
            if (proc.Kind == "xor" && arg.Checked is { } xa && xa.Type.Kind is not (TKind.Int or TKind.Bytes))
            {
                Mismatch(parg.Loc, "'xor: " + parg.Text.Trim() + "' must be an integer or a byte array, not " + xa.Type.Describe());
                arg = arg with { Checked = null };
            }
            f2 = f2 with { Process = proc with { Arg = arg } };
        }
        if (f.Switch is { } sw)
        {
            var on = Expr(sw.On, scope);
            var cases = sw.Cases.Select(c => c with { Key = Key(c.Key!, on, scope), Args = Args(c.Args, c.TypeCsName, scope, c.Key!.Loc) }).ToEquatable();
            var deflt = sw.Default is { } d ? d with { Args = Args(d.Args, d.TypeCsName, scope, sw.Loc) } : null;
            f2 = f2 with { Switch = sw with { On = on, Cases = cases, Default = deflt } };
        }
        if (f.Valid is { } v)
        {
            // A rule may name its field, as well as '_'.
            var vs = scope with { Value = value, Visible = f.Repeat == RepeatKind.None && index != Scope.All ? index + 1 : scope.Visible };
            ExprText? Bound(ExprText? b) => b is null ? null : BoundOf(b, value, vs, f.Id);
            f2 = f2 with
            {
                Valid = v with
                {
                    Eq = Bound(v.Eq),
                    Min = Bound(v.Min),
                    Max = Bound(v.Max),
                    AnyOf = v.AnyOf.Select(a => BoundOf(a, value, vs, f.Id)).ToEquatable(),
                    Expr = Opt(v.Expr, vs, ExprType.Bool, "valid/expr"),
                    Expect = Template(v.Expect, vs),
                    Found = Template(v.Found, vs),
                },
            };
        }
        return f2;
    }

    /// <summary>A bound of 'valid' (eq, min, max, any-of) must be of the field's kind.</summary>
    private ExprText BoundOf(ExprText b, ExprType value, Scope scope, string field)
    {
        var e = Expr(b, scope);
        if (e.Checked is null || value.IsError) return e;
        var t = e.Checked.Type;
        bool ok = value.Kind == TKind.Enum ? t.Kind == TKind.Enum && t.Name == value.Name
            : value.Kind == TKind.Float ? IsNumber(t) : t.Kind == value.Kind;
        if (ok) return e;
        Mismatch(b.Loc, "'" + b.Text + "' (" + t.Describe() + ") cannot be compared with field '" + field + "' (" + value.Describe() + ")"
                        + (value.Kind == TKind.Enum ? "; use " + value.Name + " members" : ""));
        return e with { Checked = null };
    }

    /// <summary>A switch or endian case key: of the kind of what the switch is on.</summary>
    /// <param name="bytes">Whether byte arrays may be keys (a byte order switch compares them; a type switch does not).</param>
    private ExprText Key(ExprText key, ExprText on, Scope scope, bool bytes = false)
    {
        var e = Expr(key, scope);
        if (e.Checked is null || on.Checked is null) return e;
        var k = e.Checked.Type;
        var o = on.Checked.Type;
        bool ok = o.Kind == TKind.Enum ? k.Kind == TKind.Enum && k.Name == o.Name
            : k.Kind == o.Kind && (o.Kind is TKind.Int or TKind.Bool or TKind.Str || bytes && o.Kind == TKind.Bytes);
        if (ok) return e;
        Mismatch(key.Loc, "case '" + key.Text + "' (" + k.Describe() + ") cannot match '" + on.Text + "' (" + o.Describe() + ")");
        return e with { Checked = null };
    }

    private EquatableArray<ExprText> Args(EquatableArray<ExprText> args, string? callee, Scope scope, Loc loc)
    {
        var result = new List<ExprText>();
        var pars = callee is not null && _types.TryGetValue(callee, out var ct) ? ct.Params : EquatableArray<ParamModel>.Empty;
        for (int i = 0; i < args.Count; i++)
        {
            var a = Expr(args[i], scope);
            if (a.Checked is { } c && i < pars.Count)
            {
                var want = ParamType(pars[i]);
                bool ok = Fits(c.Type, want);
                if (!ok)
                {
                    Mismatch(args[i].Loc, "argument '" + args[i].Text + "' (" + c.Type.Describe() + ") does not fit parameter '" + pars[i].Id + "' (" + want.Describe() + ")");
                    a = a with { Checked = null };
                }
            }
            result.Add(a);
        }
        return result.ToEquatable();
    }

    private EquatableArray<TemplatePart> Template(EquatableArray<TemplatePart> parts, Scope scope)
        => parts.Select(p => p.Expr is { } e ? p with { Expr = Expr(e, scope) } : p).ToEquatable();

    private ExprText? Opt(ExprText? e, Scope scope, ExprType want, string what) => e is null ? null : Expr(e, scope, want, what);

    /// <summary>Checks one expression; when <paramref name="want"/> is given, its result must be of that kind.</summary>
    private ExprText Expr(ExprText e, Scope scope, ExprType? want = null, string? what = null)
    {
        var t = Check(e.Expr, scope, e.Loc);
        if (t.Type.IsError) return e with { Checked = null };
        if (want is not null && t.Type.Kind != want.Kind)
        {
            Mismatch(e.Loc, "'" + (what is null ? "" : what + ": ") + e.Text.Trim() + "' must be " + want.Describe() + ", not " + t.Type.Describe());
            return e with { Checked = null };
        }
        return e with { Checked = t };
    }

    // ---- types of fields, parameters and instances ----

    private static ExprType ParamType(ParamModel p) => p.ValueType;

    /// <summary>Whether a value of one type can be passed as a parameter of another.</summary>
    private static bool Fits(ExprType have, ExprType want) => want.Kind switch
    {
        TKind.Enum => have.Kind == TKind.Enum && have.Name == want.Name,
        TKind.Float => have.Kind is TKind.Float or TKind.Int,
        TKind.User when want.Name == ExprType.AnyStruct.Name => have.Kind == TKind.User,
        TKind.User => have.Kind == TKind.User && have.Name == want.Name,
        TKind.Array => have.Kind == TKind.Array && have.Element is { } he && want.Element is { } we && Fits(he, we),
        _ => have.Kind == want.Kind,
    };

    /// <summary>The type of one value of a field (an element, when it repeats).</summary>
    private static ExprType ValueType(FieldModel f) => f.Kind switch
    {
        FieldKind.Primitive when f.EnumCsName is not null => ExprType.Enum(f.EnumCsName),
        FieldKind.Primitive when f.Primitive is "f4" or "f8" => ExprType.Float,
        FieldKind.Primitive when f.Primitive == "b1" => ExprType.Bool,
        FieldKind.Primitive => f.Primitive is "u8" or "b64" ? ExprType.ULong : ExprType.Long,
        FieldKind.Bytes => ExprType.Bytes,
        FieldKind.Str => ExprType.Str,
        FieldKind.User => ExprType.User(f.UserType!),
        // A switch that did not build (its switch-on was already reported): no type, no second error.
        FieldKind.Switch when f.Switch is null => ExprType.Error,
        // A switch whose every case is an integer (or a string) is that, as Kaitai has it.
        _ when f.Repeat == RepeatKind.None && f.Switch!.ValueKind is { } vk => vk == "str" ? ExprType.Str : vk == "uint" ? ExprType.ULong : ExprType.Long,
        _ => new ExprType(TKind.User, Name: f.Switch!.InterfaceName, Union: true),
    };

    private static ExprType FieldType(FieldModel f) => f.Repeat == RepeatKind.None ? ValueType(f) : ExprType.ArrayOf(ValueType(f));

    private ExprType InstanceType(TypeModel t, InstanceModel inst)
    {
        var key = (t.CsName, inst.Id);
        if (_instanceTypes.TryGetValue(key, out var known)) return known;
        if (!_inProgress.Add(key))
        {
            Mismatch(inst.Loc, "instance '" + inst.Id + "' depends on itself");
            return _instanceTypes[key] = ExprType.Error;
        }
        var value = Check(inst.Value.Expr, new Scope(t, Scope.All, Model: true), inst.Value.Loc);
        _inProgress.Remove(key);
        var type = value.Type;
        if (inst.EnumCsName is not null && !type.IsError)
            type = type.Kind == TKind.Int ? ExprType.Enum(inst.EnumCsName) : ((TError)Mismatch(inst.Value.Loc, "instance '" + inst.Id + "' has an enum, so its value must be an integer, not " + type.Describe())).Type;
        if (!type.IsError && type.Kind is TKind.Array)
            type = Unsupported(inst.Value.Loc, "An instance whose value is a list").Type;
        if (_instanceTypes.TryGetValue(key, out var cycle) && cycle.IsError) return cycle;
        return _instanceTypes[key] = type;
    }

    /// <summary>An instance's value, checked once more for the model (its diagnostics were reported with its type).</summary>
    private TExpr CheckedInstance(TypeModel t, InstanceModel inst)
        => Silently(() => Check(inst.Value.Expr, new Scope(t, Scope.All, Model: true), inst.Value.Loc));

    /// <summary>A check whose diagnostics were reported already, or are not to be: what it adds is taken back.</summary>
    private T Silently<T>(Func<T> check)
    {
        int before = _diags.Count;
        var result = check();
        if (_diags.Count > before) _diags.RemoveRange(before, _diags.Count - before);
        return result;
    }

    /// <summary>The fields an instance reads, directly or through other instances.</summary>
    private void InstanceFields(TypeModel t, string id, HashSet<int> into, HashSet<string> seen)
    {
        if (!seen.Add(id)) return;
        var exprs = new List<Expr>();
        if (t.Instances.FirstOrDefault(i => i.Id == id) is { } inst)
        {
            exprs.Add(inst.Value.Expr);
            if (inst.If is not null) exprs.Add(inst.If.Expr);
        }
        else if (t.ParseInstances.FirstOrDefault(i => i.Id == id) is { } pi)
        {
            // What is worked out where it is asked for: where, how much, whether, with what.
            var f = pi.Field;
            foreach (var x in new[] { pi.Pos, pi.IoExpr, f.Size, f.RepeatExpr, f.If, f.Process?.Arg }.Concat(f.Args))
                if (x is not null) exprs.Add(x.Expr);
        }
        foreach (var ex in exprs)
        Walk(ex, e =>
        {
            if (e is not NameRef n) return;
            int fi = IndexOfField(t, n.Id);
            if (fi >= 0) into.Add(fi);
            else if (t.Instances.Any(i => i.Id == n.Id) || t.ParseInstances.Any(i => i.Id == n.Id)) InstanceFields(t, n.Id, into, seen);
        });
    }

    private static int IndexOfField(TypeModel t, string id)
    {
        for (int i = 0; i < t.Fields.Count; i++) if (t.Fields[i].Id == id) return i;
        return -1;
    }

    internal static void Walk(Expr e, Action<Expr> visit)
    {
        visit(e);
        switch (e)
        {
            case MemberRef m: Walk(m.Target, visit); break;
            case MethodCall mc: Walk(mc.Target, visit); foreach (var a in mc.Args) Walk(a, visit); break;
            case IndexExpr ix: Walk(ix.Target, visit); Walk(ix.Index, visit); break;
            case CastExpr ce: Walk(ce.Target, visit); break;
            case ArrayLit al: foreach (var a in al.Items) Walk(a, visit); break;
            case Unary u: Walk(u.Operand, visit); break;
            case Binary b: Walk(b.Left, visit); Walk(b.Right, visit); break;
            case Ternary t: Walk(t.Cond, visit); Walk(t.Then, visit); Walk(t.Else, visit); break;
        }
    }

    // ---- expressions ----

    private TExpr Check(Expr e, Scope s, Loc loc) => e switch
    {
        IntLit i => new TInt(i.Value),
        BoolLit b => new TBool(b.Value),
        FloatLit f => new TFloat(f.Value),
        StrLit str => new TStr(str.Value),
        ArrayLit a => ArrayLiteral(a, s, loc),
        IndexExpr ix => IndexOp(ix, s, loc),
        CastExpr ce => Cast(ce, s, loc),
        SizeOfExpr so => SizeOf(so, s, loc),
        EnumLit en => EnumConst(en, s, loc),
        NameRef n => Name(n.Id, s, loc),
        MemberRef m => Member(m, s, loc),
        MethodCall c => Call(c, s, loc),
        Unary u => UnaryOp(u, s, loc),
        Binary b => BinaryOp(b, s, loc),
        Ternary t => TernaryOp(t, s, loc),
        _ => Unsupported(loc, "This expression"),
    };

    private TExpr EnumConst(EnumLit en, Scope s, Loc loc)
    {
        var cs = _resolveEnum(en.Enum, s.Type);
        if (cs is null || !_enums.TryGetValue(cs, out var model)) return Unknown(loc, "enum " + en.Enum);
        var m = model.Members.FirstOrDefault(x => x.KsyName == en.Member);
        return m is null ? Unknown(loc, en.Enum + "::" + en.Member, " (enum " + en.Enum + " has no member '" + en.Member + "')") : new TEnumConst(model.CsName, m.CsName);
    }

    private TExpr Name(string id, Scope s, Loc loc)
    {
        switch (id)
        {
            case "_index":
                return s.Index ? new TRef(RefKind.Index, id, ExprType.Long) : Unknown(loc, "_index", " (only inside a repeated field)");
            case "_":
                if (s.Element is { } el) return new TRef(RefKind.Element, id, el);
                if (s.Value is { } v) return new TRef(RefKind.Value, id, v);
                return Unknown(loc, "_", " (only in repeat-until, valid and count predicates)");
            case "_io" when !s.Model:
                return new TRef(RefKind.IoValue, id, ExprType.Io);
            case "_sizeof":
                return SizeOfType(s.Type, loc);
            case "_io" or "_root" or "_parent":
                return Mismatch(loc, "'" + id + "' needs a member, as in " + id + (id == "_io" ? ".size" : ".name"));
        }
        var t = s.Type;
        if (t.Params.FirstOrDefault(p => p.Id == id) is { } param) return new TRef(RefKind.Param, id, ParamType(param));
        int fi = IndexOfField(t, id);
        if (fi >= 0)
        {
            if (fi >= s.Visible && s.Self != id) return Unknown(loc, id, " yet (it is read after this field)");
            return new TRef(RefKind.Field, id, FieldType(t.Fields[fi]));
        }
        if (t.Instances.FirstOrDefault(i => i.Id == id) is { } inst)
        {
            var type = InstanceType(t, inst);
            if (type.IsError) return new TError();
            if (s.Visible != Scope.All)
            {
                var reads = new HashSet<int>();
                InstanceFields(t, id, reads, new HashSet<string>());
                var late = reads.Where(r => r >= s.Visible).Select(r => t.Fields[r].Id).FirstOrDefault();
                if (late is not null) return Unknown(loc, id, " yet (it reads '" + late + "', read after this field)");
            }
            return new TRef(RefKind.Instance, id, type);
        }
        if (t.ParseInstances.FirstOrDefault(i => i.Id == id) is { } pinst)
        {
            if (s.Visible != Scope.All)
            {
                var reads = new HashSet<int>();
                InstanceFields(t, id, reads, new HashSet<string>());
                var late = reads.Where(r => r >= s.Visible).Select(r => t.Fields[r].Id).FirstOrDefault();
                if (late is not null) return Unknown(loc, id, " yet (it reads '" + late + "', read after this field)");
            }
            return new TRef(RefKind.Instance, id, FieldType(pinst.Field));
        }
        return Unknown(loc, id);
    }

    private TExpr Member(MemberRef m, Scope s, Loc loc)
    {
        if (m.Target is NameRef { Id: "_root" } && m.Name == "_io")
            return s.Model ? Unsupported(loc, "'_root._io' in an instance") : new TRef(RefKind.RootIoValue, "_root._io", ExprType.Io);
        // The sizes of streams, without making a stream of them.
        if (m.Name == "size" && m.Target is MemberRef { Target: NameRef { Id: "_root" }, Name: "_io" })
            return new TRef(RefKind.RootIoSize, "_root._io.size", ExprType.Long);
        if (PathOf(m, out var head, out var path) && !(head == "_root" && path[0] == "_io")) return Path(s.Type, head, path, s.Visible, loc, s.Model);
        if (m.Target is NameRef { Id: "_io" })
            return m.Name switch
            {
                "size" => new TRef(RefKind.IoSize, "_io.size", ExprType.Long),
                // In an instance read from a model: where the type's fields ended (what Kaitai's lazy instances see after the parse).
                "eos" or "eof" => new TRef(RefKind.IoEos, "_io.eos", ExprType.Bool),
                "pos" => new TRef(RefKind.IoPos, "_io.pos", ExprType.Long),
                _ => Unsupported(loc, "'_io." + m.Name + "'"),
            };
        var target = Check(m.Target, s, loc);
        return MemberOf(target, m.Name, loc);
    }

    private TExpr MemberOf(TExpr target, string name, Loc loc)
    {
        var t = target.Type;
        if (t.IsError) return target;
        switch (name)
        {
            case "to_i" when t.Kind == TKind.Enum: return new TBuiltin(target, name, _enums[t.Name!].Signed ? ExprType.Long : ExprType.ULong);
            case "to_i" when t.Kind is TKind.Bool or TKind.Float or TKind.Str: return new TBuiltin(target, name, ExprType.Long);
            case "to_s" when t.Kind == TKind.Int: return new TBuiltin(target, name, ExprType.Str);
            case "size" or "length" when t.Kind is TKind.Bytes or TKind.Array or TKind.Str: return new TBuiltin(target, "size", ExprType.Long);
            case "reverse" when t.Kind is TKind.Str or TKind.Bytes: return new TBuiltin(target, name, t);
            case "first" or "last" or "min" or "max" when t.Kind == TKind.Bytes: return new TBuiltin(target, name, ExprType.Long);
            case "first" or "last" or "min" or "max" when t.Kind == TKind.Array && t.Element is { } el: return new TBuiltin(target, name, el);
        }
        if (name == "size" && t.Kind == TKind.Io) return new TBuiltin(target, "size", ExprType.Long);
        if (name == "_io" && t.Kind == TKind.User && !t.Union && _types.TryGetValue(t.Name!, out var streamed))
        {
            // The stream a value was read from: its model keeps it.
            // Another grammar's type keeps its stream only if that grammar reads it.
            if (streamed.External && !streamed.KeepsIo) return Unsupported(loc, "'._io' of a type of another grammar that does not read it itself");
            _keepsIo.Add(streamed.CsName);
            return new TMember(target, "_io", false, ExprType.Io);
        }
        if (name == "_sizeof" && t.Kind == TKind.User && !t.Union && _types.TryGetValue(t.Name!, out var sized)) return SizeOfType(sized, loc);
        if (t.Kind == TKind.User && !t.Union && !_types.ContainsKey(t.Name!))
            return Mismatch(loc, "'." + name + "' cannot be applied to " + t.Describe() + "; give it a type first, as in .as<name>");
        if (t.Kind == TKind.User && !t.Union)
        {
            var type = _types[t.Name!];
            int fi = IndexOfField(type, name);
            if (fi >= 0) return new TMember(target, name, false, FieldType(type.Fields[fi]));
            if (type.Instances.FirstOrDefault(i => i.Id == name) is { } inst)
            {
                var it = InstanceType(type, inst);
                return it.IsError ? new TError() : new TMember(target, name, true, it);
            }
            if (type.ParseInstances.FirstOrDefault(i => i.Id == name) is { } pinst)
                return new TMember(target, name, true, FieldType(pinst.Field));
            return Unknown(loc, name, " in type " + type.KsyId);
        }
        return Mismatch(loc, "'." + name + "' cannot be applied to " + t.Describe());
    }

    private static bool PathOf(Expr e, out string head, out List<string> path)
    {
        path = new List<string>();
        while (e is MemberRef m)
        {
            path.Insert(0, m.Name);
            e = m.Target;
        }
        head = (e as NameRef)?.Id ?? "";
        return head is "_root" or "_parent" && path.Count > 0;
    }

    /// <summary>
    /// _root.a.b or _parent.a.b: resolved where the value is read (in the root,
    /// or in each type that reads this one, before it), and passed down.
    /// </summary>
    private TExpr Path(TypeModel t, string head, List<string> path, int visible, Loc loc, bool lazy)
    {
        // Built-ins at the end (_root.a.size) apply to the path before them.
        int builtins = 0;
        while (builtins < path.Count - 1 && path[path.Count - 1 - builtins] is "size" or "length" or "to_i") builtins++;
        var core = path.Take(path.Count - builtins).ToList();
        var e = PathExpr(t, head == "_root", core, visible, loc, lazy);
        foreach (var b in path.Skip(core.Count))
        {
            if (e.Type.IsError) break;
            e = MemberOf(e, b, loc);
        }
        return e;
    }

    /// <summary>
    /// The value of _root.path or _parent.path in <paramref name="t"/>: the root's own
    /// fields in the root, otherwise a hidden value each parent provides.
    /// </summary>
    /// <param name="lazy">Read by a value instance: a value the type is read before may be read later, from the owner's model (<see cref="TLate"/>).</param>
    private TExpr PathExpr(TypeModel t, bool root, List<string> path, int visible, Loc loc, bool lazy = false)
    {
        var joined = string.Join(".", path);
        var shown = (root ? "_root." : "_parent.") + joined;
        // _parent._parent (or _root._parent) with nothing after it names a type, not a value (found by fuzzing: it indexed an empty path).
        if (path.Count == 0) return Once(t.CsName + "|" + shown, () => Unsupported(loc, "'" + shown.TrimEnd('.') + "' alone (an object, not a value)"));
        if (root && t.IsRoot) return Chain(t, path, visible, loc);
        ExprType? type = null;
        if (root)
        {
            // Read before the root field through which this type is read.
            int before = ReachedAt(t);
            if (lazy && before >= 0 && !Chains(_root, path, before) && Chains(_root, path, Scope.All))
                return Late(t, _root, true, path, shown, loc);
            var value = Chain(_root, path, before < 0 ? Scope.All : before, loc);
            if (value.Type.IsError) return value;
            if (!PassesDown(value)) return Once(t.CsName + "|" + shown, () => Unsupported(loc, "'" + shown + "' (" + value.Type.Describe() + ") from _root or _parent"));
            // Worked out when the root's parse instance that leads here is read: it cannot read that instance (an instance may, later).
            foreach (var pi in _root.ParseInstances)
                if (ChildTypes(pi.Field).Any(c => Reaches(c, t.CsName, new HashSet<string>())) && ReadsInstance(_root, value, pi.Id))
                    return lazy ? Late(t, _root, true, path, shown, loc) : Once(t.CsName + "|" + shown, () => ReadsOwnInstance(loc, shown, pi.Id));
            Provide(_root, new ProvidedModel(true, joined, value));
            type = value.Type;
        }
        else
        {
            if (!_users.TryGetValue(t.CsName, out var users) || users.Count == 0)
                return Once(t.CsName + "|" + shown, () => Mismatch(loc, "'" + shown + "': type " + t.KsyId + " has no parent"));
            // One parent, in which the value is read after this type (or is what its parse instance reads): an instance reads it later.
            // Under a parse instance, or for a value read after this type (or the parent's stream): the parent's model, later.
            if (lazy && users.Count == 1 && users[0] is var (p0, f0, i0)
                && (i0 is not null || f0 < p0.Fields.Count && p0.Fields[f0].Kind == FieldKind.User))
            {
                if (path[0] is "_parent" or "_root")
                {
                    // _parent._parent.x: the parent's own _parent.x, read later too.
                    var outer = PathExpr(p0, path[0] == "_root", path.Skip(1).ToList(), Scope.All, loc, lazy: true);
                    return outer.Type.IsError ? outer : Late(t, p0, false, outer, shown);
                }
                if ((i0 is not null || !Chains(p0, path, f0) || (path.Count == 1 && path[0] == "_io") || LateIn(p0, Chain(p0, path, f0, loc)) is not null)
                    && Chains(p0, path, Scope.All))
                    return Late(t, p0, false, path, shown, loc);
            }
            foreach (var (parent, field, instance) in users)
            {
                var value = path[0] is "_parent" or "_root"
                    ? PathExpr(parent, path[0] == "_root", path.Skip(1).ToList(), field, loc)
                    : Chain(parent, path, field, loc);
                if (value.Type.IsError) return value;
                if (!PassesDown(value)) return Once(t.CsName + "|" + shown, () => Unsupported(loc, "'" + shown + "' (" + value.Type.Describe() + ") from _root or _parent"));
                if (instance is not null && ReadsInstance(parent, value, instance))
                    return Once(t.CsName + "|" + shown, () => ReadsOwnInstance(loc, shown, instance));
                if (LateIn(parent, value) is not null)
                    return Once(t.CsName + "|" + shown, () => Unknown(loc, shown, " yet where '" + t.KsyId + "' is read (it reads a value read after it: an instance may read it, when asked for, but not what reads the fields)"));
                if (type is not null && type != value.Type)
                    return Once(t.CsName + "|" + shown, () => Mismatch(loc, "'" + shown + "' is " + type.Describe() + " in one parent and " + value.Type.Describe() + " in " + parent.KsyId));
                type = value.Type;
                Provide(parent, new ProvidedModel(false, joined, value));
            }
        }
        Need(t, new HiddenModel(root, joined, type!));
        return new TPath(root, joined, type!);
    }

    /// <summary>
    /// A value read later (<see cref="TLate"/>) exists only once the owner's model is built:
    /// what reads the type's fields, its rules and byte order, cannot use an instance that reads one.
    /// </summary>
    private void CheckLateUses(TypeModel t)
    {
        IEnumerable<ExprText?> Eager()
        {
            yield return t.Endian.SwitchOn;
            foreach (var f in t.Fields)
            {
                foreach (var a in f.Args) yield return a;
                foreach (var x in new[] { f.Size, f.RepeatExpr, f.RepeatUntil, f.If, f.Process?.Arg, f.Switch?.On }) yield return x;
                if (f.Switch is { } sw) foreach (var c in sw.AllCases) foreach (var a in c.Args) yield return a;
                if (f.Valid is { } v) foreach (var x in new[] { v.Eq, v.Min, v.Max, v.Expr }.Concat(v.AnyOf)) yield return x;
            }
            foreach (var c in t.Checks) yield return c.Expr;
            foreach (var x in t.Exports)
                if (t.Instances.FirstOrDefault(i => i.Id == x) is { } inst) yield return inst.Value;
        }
        foreach (var e in Eager())
            if (e?.Checked is { } ce && LateIn(t, ce) is { } late)
            {
                Unknown(e.Loc, late.Shown, " yet where '" + t.KsyId + "' is read (it is read after it: an instance may read it, when asked for, but not what reads the fields)");
                return;
            }
    }

    /// <summary>Instances being probed by <see cref="LateIn"/> (a cycle reads as nothing found).</summary>
    private readonly HashSet<string> _lateProbe = new(StringComparer.Ordinal);

    /// <summary>The value read later (<see cref="TLate"/>) that a value of <paramref name="t"/> reads, itself or through instances (value instances, a parse instance's position); null when none.</summary>
    private TLate? LateIn(TypeModel t, TExpr value)
    {
        TLate? late = null;
        TExprs.Walk(value, x =>
        {
            if (late is not null) return;
            if (x is TLate l) { late = l; return; }
            var (owner, id) = x switch
            {
                TRef { Kind: RefKind.Instance } r => (t, r.Id),
                TMember { Instance: true, Target.Type: { Kind: TKind.User, Union: false, Name: { } n } } m when _types.TryGetValue(n, out var mt) => (mt, m.Id),
                _ => (null!, ""),
            };
            if (owner is null) return;
            var key = owner.CsName + "." + id;
            if (!_lateProbe.Add(key)) return;
            try
            {
                if (owner.ParseInstances.FirstOrDefault(i => i.Id == id)?.Pos is { } pos)
                    late = LateIn(owner, Silently(() => Check(pos.Expr, new Scope(owner, Scope.All, Model: true), pos.Loc)));
                if (owner.Instances.FirstOrDefault(i => i.Id == id) is not { } inst) return;
                late = LateIn(owner, CheckedInstance(owner, inst));
                if (late is null && inst.If is not null)
                    late = LateIn(owner, Silently(() => Check(inst.If.Expr, new Scope(owner, Scope.All, Model: true), inst.If.Loc)));
            }
            finally { _lateProbe.Remove(key); }
        });
        return late;
    }

    /// <summary>Whether a.b.c resolves in <paramref name="t"/> seeing the fields before <paramref name="visible"/>; nothing is reported.</summary>
    private bool Chains(TypeModel t, List<string> path, int visible)
    {
        var key = t.CsName + "|" + string.Join(".", path) + "|" + visible.ToString(System.Globalization.CultureInfo.InvariantCulture);
        bool known = _once.Contains(key);
        var e = Silently(() => Chain(t, path, visible, new Loc("", 0, 0)));
        if (!known) _once.Remove(key);
        return !e.Type.IsError;
    }

    /// <summary>
    /// _root.path or _parent.path, read by an instance of <paramref name="t"/> from the owner's model once
    /// built: the owner's reader boxes its model and passes the box down (Kaitai's lazy _root and _parent).
    /// </summary>
    private TExpr Late(TypeModel t, TypeModel owner, bool root, List<string> path, string shown, Loc loc)
    {
        var value = Chain(owner, path, Scope.All, loc);
        if (value.Type.IsError) return value;
        // The owner's own stream, from its model: the model keeps it.
        if (value is TRef { Kind: RefKind.IoValue }) _keepsIo.Add(owner.CsName);
        return Late(t, owner, root, value, shown);
    }

    private TExpr Late(TypeModel t, TypeModel owner, bool root, TExpr value, string shown)
    {
        Provide(owner, new ProvidedModel(root, "", new TBox(owner.CsName)));
        Need(t, new HiddenModel(root, "", new ExprType(TKind.Box, Name: owner.CsName)));
        return new TLate(root, owner.CsName, shown, value, value.Type);
    }

    /// <summary>Whether a value can be passed down as it is read: a stream only as a model's (x._io); the reader's own is another thing by then.</summary>
    private static bool PassesDown(TExpr value) => value.Type.Kind is not TKind.Io || value is TMember { Id: "_io" };

    private TExpr ReadsOwnInstance(Loc loc, string shown, string instance)
        => Unknown(loc, shown, " yet: the parse instance '" + instance + "' reads this type (an instance of it may read it, when asked for, but not what reads its fields)");

    /// <summary>Whether a value of <paramref name="t"/> reads its instance <paramref name="instance"/>, itself or through its value instances.</summary>
    private static bool ReadsInstance(TypeModel t, TExpr value, string instance)
    {
        var todo = new Stack<string>();
        TExprs.Walk(value, x => { if (x is TRef { Kind: RefKind.Instance } r) todo.Push(r.Id); });
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (todo.Count > 0)
        {
            var id = todo.Pop();
            if (id == instance) return true;
            if (!seen.Add(id) || t.Instances.FirstOrDefault(i => i.Id == id) is not { } inst) continue;
            Walk(inst.Value.Expr, x => { if (x is NameRef n) todo.Push(n.Id); });
            if (inst.If is not null) Walk(inst.If.Expr, x => { if (x is NameRef n) todo.Push(n.Id); });
        }
        return false;
    }

    private void Need(TypeModel t, HiddenModel h)
    {
        if (!_needs.TryGetValue(t.CsName, out var list)) _needs[t.CsName] = list = new List<HiddenModel>();
        if (!list.Contains(h)) list.Add(h);
    }

    private void Provide(TypeModel t, ProvidedModel p)
    {
        if (!_provides.TryGetValue(t.CsName, out var list)) _provides[t.CsName] = list = new List<ProvidedModel>();
        if (!list.Any(x => x.Root == p.Root && x.Path == p.Path)) list.Add(p);
    }

    /// <summary>A mistake found again each time a shared path is resolved is reported once.</summary>
    private TExpr Once(string key, Func<TExpr> report)
    {
        if (_once.Add(key)) return report();
        return new TError();
    }

    /// <summary>The first field of the root through which a type is read (its reading starts there).</summary>
    private int ReachedAt(TypeModel t)
    {
        for (int i = 0; i < _root.Fields.Count; i++)
            if (ChildTypes(_root.Fields[i]).Any(c => Reaches(c, t.CsName, new HashSet<string>()))) return i;
        return -1;
    }

    private bool Reaches(string from, string to, HashSet<string> seen)
    {
        if (from == to) return true;
        if (!seen.Add(from) || !_types.TryGetValue(from, out var t)) return false;
        return t.Fields.Concat(t.ParseInstances.Select(p => p.Field)).Any(f => ChildTypes(f).Any(c => Reaches(c, to, seen)));
    }

    /// <summary>a.b.c read in <paramref name="t"/>, seeing the fields before <paramref name="visible"/>.</summary>
    private TExpr Chain(TypeModel t, List<string> path, int visible, Loc loc)
    {
        var key = t.CsName + "|" + string.Join(".", path) + "|" + visible.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int before = _diags.Count;
        TExpr e = Name(path[0], new Scope(t, visible), loc);
        for (int i = 1; i < path.Count && !e.Type.IsError; i++) e = MemberOf(e, path[i], loc);
        // The same path is resolved for each type that needs it: report its mistake once.
        if (_diags.Count > before && !_once.Add(key)) _diags.RemoveRange(before, _diags.Count - before);
        return e;
    }

    private TExpr Call(MethodCall c, Scope s, Loc loc)
    {
        if (c.Name != "count") return Method(c, s, loc);
        if (c.Args.Count != 1 || c.Target is not NameRef n || IndexOfField(s.Type, n.Id) is var fi && fi < 0 || s.Type.Fields[fi].Repeat == RepeatKind.None)
            return Mismatch(loc, "'.count(...)' needs a repeated field of this type");
        if (!s.Counts) return Unsupported(loc, "'.count(...)' outside -fg-checks");
        var pred = Check(c.Arg, s with { Element = ValueType(s.Type.Fields[fi]) }, loc);
        if (pred.Type.IsError) return pred;
        if (pred.Type.Kind != TKind.Bool) return Mismatch(loc, "the predicate of '" + n.Id + ".count(...)' must be a boolean, not " + pred.Type.Describe());
        return new TCount(n.Id, pred);
    }

    /// <summary>substring(from, to), to_i(radix), to_s(encoding).</summary>
    private TExpr Method(MethodCall c, Scope s, Loc loc)
    {
        var target = Check(c.Target, s, loc);
        if (target.Type.IsError) return target;
        var args = c.Args.Select(a => Check(a, s, loc)).ToList();
        if (args.FirstOrDefault(a => a.Type.IsError) is { } bad) return bad;
        var kinds = string.Join(",", args.Select(a => a.Type.Kind));
        var result = (c.Name, target.Type.Kind, kinds) switch
        {
            ("substring", TKind.Str, "Int,Int") => ExprType.Str,
            ("to_i", TKind.Str, "Int") => ExprType.Long,
            ("to_s", TKind.Bytes, "Str") when args[0] is TStr => ExprType.Str,
            _ => null,
        };
        if (result is null)
            return c.Name is "substring" or "to_i" or "to_s"
                ? Mismatch(loc, "'" + c.Name + "(" + string.Join(", ", args.Select(a => a.Type.Describe())) + ")' cannot be applied to " + target.Type.Describe())
                : Unsupported(loc, "Method '" + c.Name + "'");
        return new TMethod(target, c.Name, args.ToEquatable(), result);
    }

    private TExpr ArrayLiteral(ArrayLit a, Scope s, Loc loc)
    {
        if (a.Items.All(i => i is IntLit { Value: <= 255 }))
            return new TBytes(a.Items.Select(i => (byte)((IntLit)i).Value).ToEquatable());
        var items = a.Items.Select(i => Check(i, s, loc)).ToList();
        if (items.FirstOrDefault(i => i.Type.IsError) is { } bad) return bad;
        var type = items[0].Type;
        foreach (var i in items.Skip(1))
            if (Common(type, i.Type) is { } c) type = c;
            else return Mismatch(loc, "a list literal mixes " + type.Describe() + " and " + i.Type.Describe());
        return new TList(items.ToEquatable(), ExprType.ArrayOf(type));
    }

    private TExpr IndexOp(IndexExpr ix, Scope s, Loc loc)
    {
        var target = Check(ix.Target, s, loc);
        var index = Check(ix.Index, s, loc);
        if (target.Type.IsError) return target;
        if (index.Type.IsError) return index;
        if (index.Type.Kind != TKind.Int) return Mismatch(loc, "an index must be an integer, not " + index.Type.Describe());
        return target.Type.Kind switch
        {
            TKind.Bytes => new TIndex(target, index, ExprType.Long),
            TKind.Array => new TIndex(target, index, target.Type.Element!),
            _ => Mismatch(loc, "'[...]' cannot be applied to " + target.Type.Describe()),
        };
    }

    private TExpr Cast(CastExpr ce, Scope s, Loc loc)
    {
        var target = Check(ce.Target, s, loc);
        if (target.Type.IsError) return target;
        var prim = StripEndianName(ce.TypeName);
        if (prim is "u1" or "u2" or "u4" or "s1" or "s2" or "s4" or "s8")
            return target.Type.Kind == TKind.Int ? new TCast(target, ExprType.Long) : Mismatch(loc, "'.as<" + ce.TypeName + ">' needs an integer, not " + target.Type.Describe());
        if (prim == "u8")
            return target.Type.Kind == TKind.Int ? new TCast(target, ExprType.ULong) : Mismatch(loc, "'.as<" + ce.TypeName + ">' needs an integer, not " + target.Type.Describe());
        // Kaitai's casts to the built-in types are no-ops on values that have them already.
        if (prim is "bytes" && target.Type.Kind == TKind.Bytes || prim is "str" && target.Type.Kind == TKind.Str
            || prim is "f4" or "f8" && target.Type.Kind == TKind.Float || prim is "bool" && target.Type.Kind == TKind.Bool)
            return target;
        if (prim is "bytes" && target.Type is { Kind: TKind.Array, Element.Kind: TKind.Int }) return new TCast(target, ExprType.Bytes);
        var cs = _resolveType(ce.TypeName, s.Type);
        if (cs is null) return Unknown(loc, "type " + ce.TypeName);
        if (target.Type.Kind != TKind.User) return Mismatch(loc, "'.as<" + ce.TypeName + ">' needs a value of a user type, not " + target.Type.Describe());
        return new TCast(target, ExprType.User(cs));
    }

    private static string StripEndianName(string t) => t.EndsWith("le", StringComparison.Ordinal) || t.EndsWith("be", StringComparison.Ordinal) ? t.Substring(0, t.Length - 2) : t;

    private TExpr SizeOf(SizeOfExpr so, Scope s, Loc loc)
    {
        var prim = StripEndianName(so.TypeName);
        long? bits = prim switch
        {
            "u1" or "s1" => 8,
            "u2" or "s2" => 16,
            "u4" or "s4" or "f4" => 32,
            "u8" or "s8" or "f8" => 64,
            _ when prim.Length > 1 && prim[0] == 'b' && int.TryParse(prim.Substring(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var w) && w is >= 1 and <= 64 => w,
            _ => null,
        };
        if (bits is null)
        {
            var cs = _resolveType(so.TypeName, s.Type);
            if (cs is null) return Unknown(loc, "type " + so.TypeName);
            bits = _staticBits(_types[cs]);
            if (bits is null) return Mismatch(loc, "type " + so.TypeName + " has no fixed size");
        }
        return new TInt((ulong)(so.Bits ? bits.Value : (bits.Value + 7) / 8));
    }

    /// <summary>Kaitai's _sizeof: the octets of a type whose size the grammar fixes.</summary>
    private TExpr SizeOfType(TypeModel t, Loc loc)
        => _staticBits(t) is { } bits ? new TInt((ulong)((bits + 7) / 8)) : Unsupported(loc, "'_sizeof' of type " + t.KsyId + ", whose size varies,");

    private TExpr UnaryOp(Unary u, Scope s, Loc loc)
    {
        var a = Check(u.Operand, s, loc);
        if (a.Type.IsError) return a;
        switch (u.Op)
        {
            case "not" when a.Type.Kind == TKind.Bool: return new TUnary("not", a, ExprType.Bool);
            case "-" when a.Type.Kind == TKind.Int: return new TUnary("-", a, ExprType.Long);
            case "-" when a.Type.Kind == TKind.Float: return new TUnary("-", a, ExprType.Float);
            case "~" when a.Type.Kind == TKind.Int: return new TUnary("~", a, a.Type);
        }
        return Mismatch(loc, "'" + u.Op + "' cannot be applied to " + a.Type.Describe());
    }

    private TExpr BinaryOp(Binary b, Scope s, Loc loc)
    {
        var l = Check(b.Left, s, loc);
        var r = Check(b.Right, s, loc);
        if (l.Type.IsError) return l;
        if (r.Type.IsError) return r;
        var lt = l.Type;
        var rt = r.Type;
        switch (b.Op)
        {
            case "and" or "or" when lt.Kind == TKind.Bool && rt.Kind == TKind.Bool:
                return new TBinary(b.Op, l, r, ExprType.Bool);
            case "==" or "!=" when lt.Kind == TKind.Enum || rt.Kind == TKind.Enum:
                if (lt.Kind == rt.Kind && lt.Name == rt.Name) return new TBinary(b.Op, l, r, ExprType.Bool);
                break;
            case "==" or "!=" when lt.Kind == TKind.Bool && rt.Kind == TKind.Bool:
                return new TBinary(b.Op, l, r, ExprType.Bool);
            case "==" or "!=" or "<" or "<=" or ">" or ">=" when lt.Kind == TKind.Int && rt.Kind == TKind.Int:
                return new TBinary(b.Op, l, r, ExprType.Bool);
            case "<<" or ">>" when lt.Kind == TKind.Int && rt.Kind == TKind.Int:
                return new TBinary(b.Op, l, r, lt);
            case "+" or "-" or "*" or "/" or "%" or "&" or "|" or "^" when lt.Kind == TKind.Int && rt.Kind == TKind.Int:
                return new TBinary(b.Op, l, r, lt.U64 || rt.U64 ? ExprType.ULong : ExprType.Long);
            case "+" when lt.Kind == TKind.Str && rt.Kind == TKind.Str:
                return new TBinary(b.Op, l, r, ExprType.Str);
            case "+" or "-" or "*" or "/" when IsNumber(lt) && IsNumber(rt) && (lt.Kind == TKind.Float || rt.Kind == TKind.Float):
                return new TBinary(b.Op, l, r, ExprType.Float);
            case "==" or "!=" or "<" or "<=" or ">" or ">=" when IsNumber(lt) && IsNumber(rt):
                return new TBinary(b.Op, l, r, ExprType.Bool);
            case "==" or "!=" or "<" or "<=" or ">" or ">=" when lt.Kind == rt.Kind && lt.Kind is TKind.Str or TKind.Bytes:
                return new TBinary(b.Op, l, r, ExprType.Bool);
        }
        return Mismatch(loc, "'" + b.Op + "' cannot be applied to " + lt.Describe() + " and " + rt.Describe());
    }

    private TExpr TernaryOp(Ternary t, Scope s, Loc loc)
    {
        var c = Check(t.Cond, s, loc);
        var a = Check(t.Then, s, loc);
        var b = Check(t.Else, s, loc);
        if (c.Type.IsError) return c;
        if (a.Type.IsError) return a;
        if (b.Type.IsError) return b;
        if (c.Type.Kind != TKind.Bool) return Mismatch(loc, "the condition of '?:' must be a boolean, not " + c.Type.Describe());
        var common = Common(a.Type, b.Type);
        return common is null
            ? Mismatch(loc, "the branches of '?:' have no common type: " + a.Type.Describe() + " and " + b.Type.Describe())
            : new TTernary(c, a, b, common);
    }

    private static bool IsNumber(ExprType t) => t.Kind is TKind.Int or TKind.Float;

    /// <summary>The type both branches of a ternary fit: the same, a wider number, or a union both types belong to.</summary>
    private ExprType? Common(ExprType a, ExprType b)
    {
        if (a.Kind == TKind.Int && b.Kind == TKind.Int) return a.U64 || b.U64 ? ExprType.ULong : ExprType.Long;
        if (IsNumber(a) && IsNumber(b)) return ExprType.Float;
        if (a == b) return a;
        if (a.Kind != TKind.User || b.Kind != TKind.User) return null;
        IEnumerable<string> Unions(ExprType x) => x.Union ? new[] { x.Name! } : _types[x.Name!].Unions;
        var shared = Unions(a).Intersect(Unions(b)).FirstOrDefault();
        return shared is null ? null : new ExprType(TKind.User, Name: shared, Union: true);
    }
}
