using System;
using System.Collections.Generic;
using System.Linq;
using FormatGen.Generator.Syntax;

namespace FormatGen.Generator.Model;

/// <summary>Grammar tree -> checked model: resolves names, infers derived fields, reports problems.</summary>
internal sealed class ModelBuilder
{
    private static readonly HashSet<string> Primitives = new(StringComparer.Ordinal)
        { "u1", "u2", "u4", "u8", "s1", "s2", "s4", "s8" };

    private static readonly HashSet<string> ReservedMembers = new(StringComparer.Ordinal)
        { "Read", "TryRead", "Write", "Validate", "Measure", "Equals", "GetHashCode", "ToString", "Summary", "EqualityContract", "Deconstruct", "Clone", "PrintMembers", "Layout", "Slack" };

    private readonly GrammarFile _file;
    private readonly List<DiagInfo> _diags = new();
    private readonly Dictionary<string, (TypeSpec Spec, string[] Scope, string CsName)> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (EnumSpec Spec, string[] Scope, string CsName)> _enums = new(StringComparer.Ordinal);
    private readonly HashSet<string> _csNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Iface, string Unknown)> _unionOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _unionsByCase = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _exports = new(StringComparer.Ordinal);

    /// <summary>The grammars this one imports, by their meta/id, with C# names qualified by their namespaces.</summary>
    private readonly Dictionary<string, GrammarModel> _importsById;

    /// <summary>Every type and enum of every grammar this one reads, directly or not (qualified).</summary>
    private readonly List<GrammarModel> _externals;

    private ModelBuilder(GrammarFile file, Dictionary<string, GrammarModel> importsById, List<GrammarModel> externals)
    {
        _file = file;
        _importsById = importsById;
        _externals = externals;
    }

    /// <summary>A grammar without imports (tests).</summary>
    public static GrammarModel Build(GrammarFile file, string defaultNamespace)
        => Build(new GrammarUnit(file, EquatableArray<GrammarFile>.Empty, EquatableArray<DiagInfo>.Empty, false), defaultNamespace);

    /// <summary>
    /// A grammar and those it imports: each import is built on its own (its
    /// own unit reports its mistakes) and its names qualified; then this one,
    /// which may use their types and enums by meta/id (id, id::type, id::enum).
    /// </summary>
    public static GrammarModel Build(GrammarUnit unit, string defaultNamespace)
    {
        var main = unit.Main;
        GrammarModel Blocked(IEnumerable<DiagInfo> diags) => new(main.Path, main.Namespace ?? defaultNamespace, "", EquatableArray<TypeModel>.Empty,
            EquatableArray<EnumModel>.Empty, null, diags.ToEquatable(), Blocked: true);
        if (main.Root is null) return Blocked(main.Diagnostics.Concat(unit.Diagnostics));
        // An import that is missing, in a cycle or has mistakes of its own: its own unit says so; this one waits.
        if (unit.Diagnostics.Count > 0 || unit.Blocked || unit.Imports.Any(f => f.Root is null || f.Diagnostics.Count > 0))
            return Blocked(main.Diagnostics.Concat(unit.Diagnostics));
        var files = new Dictionary<string, GrammarFile>(StringComparer.Ordinal);
        foreach (var f in unit.Imports.Concat(new[] { main })) files[Syntax.Imports.Normalize(f.Path)] = f;
        var built = new Dictionary<string, GrammarModel>(StringComparer.Ordinal);
        foreach (var f in unit.Imports)
        {
            var m = BuildOne(f, defaultNamespace, built, files);
            if (m.Diagnostics.Count > 0) return Blocked(main.Diagnostics);
            built[Syntax.Imports.Normalize(f.Path)] = Qualify(m);
        }
        return BuildOne(main, defaultNamespace, built, files);
    }

    private static GrammarModel BuildOne(GrammarFile f, string defaultNamespace, Dictionary<string, GrammarModel> built, Dictionary<string, GrammarFile> files)
    {
        var direct = new Dictionary<string, GrammarModel>(StringComparer.Ordinal);
        foreach (var imp in f.Imports)
        {
            var (target, _) = Syntax.Imports.Find(f, imp.Text, files);
            if (target is not null && built.TryGetValue(Syntax.Imports.Normalize(target.Path), out var m))
                direct[m.Types.First(t => t.CsName == m.RootCsName).KsyId] = m;
        }
        return new ModelBuilder(f, direct, built.Values.ToList()).Run(defaultNamespace);
    }

    /// <summary>
    /// C# names of enum members: PascalCase, and where two names differ only
    /// by underscores (gsm610, gsm_610), the later keeps its underscores.
    /// </summary>
    private static IEnumerable<EnumMemberModel> MemberNames(EquatableArray<EnumMemberSpec> members)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            var cs = Pascal(m.Name);
            if (!names.Add(m.Name)) { yield return new EnumMemberModel(m.Name, cs, m.Value, m.Doc); continue; } // the same name twice: reported
            if (taken.Contains(cs))
            {
                var kept = string.Join("_", m.Name.Split('_').Where(x => x.Length > 0).Select(Pascal));
                cs = kept;
                for (int i = 2; taken.Contains(cs); i++) cs = kept + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            taken.Add(cs);
            yield return new EnumMemberModel(m.Name, cs, m.Value, m.Doc);
        }
    }

    /// <summary>Another grammar's model as an importer sees it: every C# name with its namespace, every type and enum external.</summary>
    private static GrammarModel Qualify(GrammarModel m)
    {
        string Q(string? cs) => cs is null || cs.StartsWith("global::", StringComparison.Ordinal) ? cs! : "global::" + m.Namespace + "." + cs;
        ExprType QT(ExprType t) => t with { Name = t.Name is null ? null : Q(t.Name), Element = t.Element is null ? null : QT(t.Element) };
        ExprText? QE(ExprText? e) => e is null ? null : e.Checked is null ? e : e with { Checked = e.Checked with { Type = QT(e.Checked.Type) } };
        CaseModel QC(CaseModel c) => c with { TypeCsName = Q(c.TypeCsName) };
        SwitchModel? QS(SwitchModel? sw) => sw is null ? null : sw with
        {
            InterfaceName = Q(sw.InterfaceName),
            UnknownName = Q(sw.UnknownName),
            Cases = sw.Cases.Select(QC).ToEquatable(),
            Default = sw.Default is null ? null : QC(sw.Default),
            Wrappers = sw.Wrappers.Select(w => w with { CsName = Q(w.CsName) }).ToEquatable(),
        };
        FieldModel QF(FieldModel f) => f with
        {
            UserType = f.UserType is null ? null : Q(f.UserType),
            EnumCsName = f.EnumCsName is null ? null : Q(f.EnumCsName),
            Switch = QS(f.Switch),
        };
        var types = m.Types.Select(t => t.External ? t : t with
        {
            CsName = Q(t.CsName),
            ParentCsName = t.ParentCsName is null ? null : Q(t.ParentCsName),
            Unions = t.Unions.Select(Q).ToEquatable(),
            Fields = t.Fields.Select(QF).ToEquatable(),
            Params = t.Params.Select(p => p with { EnumCsName = p.EnumCsName is null ? null : Q(p.EnumCsName) }).ToEquatable(),
            Instances = t.Instances.Select(i => i with { EnumCsName = i.EnumCsName is null ? null : Q(i.EnumCsName), Value = QE(i.Value)!, If = QE(i.If) }).ToEquatable(),
            ParseInstances = t.ParseInstances.Select(pi => pi with { Field = QF(pi.Field) }).ToEquatable(),
            Needs = t.Needs.Select(h => h with { Type = QT(h.Type) }).ToEquatable(),
            External = true,
        }).ToEquatable();
        var enums = m.Enums.Select(e => e.External ? e : e with { CsName = Q(e.CsName), External = true }).ToEquatable();
        return m with { RootCsName = Q(m.RootCsName), Types = types, Enums = enums };
    }

    private GrammarModel Run(string defaultNamespace)
    {
        var root = _file.Root!;
        Collect(root, Array.Empty<string>());
        var typeModels = new List<TypeModel>();
        // Unions first: case types need to know the interfaces they implement.
        foreach (var (spec, scope, cs) in _types.Values) PrepareUnions(spec, scope, cs);
        foreach (var (spec, scope, cs) in _types.Values) CollectExports(spec, scope);
        foreach (var (spec, scope, cs) in _types.Values) typeModels.Add(BuildType(spec, scope, cs, ReferenceEquals(spec, root)));
        var enumModels = _enums.Values.Select(e => new EnumModel(e.Spec.Id, e.CsName,
            MemberNames(e.Spec.Members).ToEquatable(), e.Scope.ToEquatable(),
            e.Spec.Members.Any(m => m.Negative))).ToList();
        // Each enum's generated table of names (KindNames) is a type of the namespace too.
        var typeNames = new HashSet<string>(typeModels.Select(t => t.CsName).Concat(enumModels.Select(e => e.CsName)), StringComparer.Ordinal);
        foreach (var e in enumModels)
            if (typeNames.Contains(e.CsName + "Names"))
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, _enums[Key(e.Scope.ToArray(), e.KsyId)].Spec.Loc, e.CsName + "Names (the table of names of enum '" + e.KsyId + "')"));
        foreach (var e in enumModels)
        {
            var seen = new HashSet<string>();
            foreach (var m in e.Members)
                if (!seen.Add(m.KsyName))
                    _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, _enums[Key(e.Scope.ToArray(), e.KsyId)].Spec.Loc, e.KsyId + "::" + m.KsyName));
        }
        // The types and enums of imported grammars, already checked in their own units.
        var externalTypes = _externals.SelectMany(m => m.Types).GroupBy(t => t.CsName).Select(g => g.First()).ToList();
        var externalEnums = _externals.SelectMany(m => m.Enums).GroupBy(e => e.CsName).Select(g => g.First()).ToList();
        var everyType = typeModels.Concat(externalTypes).ToList();
        // Sized before expressions are checked: an enum read from a signed field is signed (to_i too).
        enumModels = enumModels.Select(e => Sized(e, typeModels)).ToList();
        typeModels = TypeChecker.Check(everyType, enumModels.Concat(externalEnums).ToList(),
            (name, t) => ResolveEnum(name, t.Scope.ToArray(), t.KsyId),
            (name, t) => ResolveType(name, t.Scope.ToArray(), t.KsyId),
            t => StaticBits(t, everyType),
            _diags);
        CheckExternalEnumWidths(typeModels.Where(t => !t.External), externalEnums);
        var stream = BuildStream(typeModels.Where(t => !t.External).ToList(), root);
        CheckHandoffs(typeModels.Where(t => !t.External));
        typeModels = typeModels.Select(t => t.External ? t : t with { IsStruct = IsStructType(t, stream) }).ToList();
        typeModels = MarkSlack(typeModels);
        typeModels = MarkNesting(typeModels);
        CheckEndless(typeModels);
        CheckExternalUses(typeModels);
        var ns = _file.Namespace ?? defaultNamespace;
        // A name this grammar and one it imports both define in one namespace would be defined twice in C#.
        foreach (var m in _externals)
        {
            var theirs = new HashSet<string>(m.Types.Where(t => t.External).Select(t => t.CsName).Concat(m.Enums.Where(e => e.External).Select(e => e.CsName)), StringComparer.Ordinal);
            string Full(string cs) => "global::" + ns + "." + cs;
            foreach (var e in enumModels.Where(e => theirs.Contains(Full(e.CsName))))
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.NameClash, _enums[Key(e.Scope.ToArray(), e.KsyId)].Spec.Loc, e.CsName, "an enum", System.IO.Path.GetFileName(m.File), ns));
            foreach (var t in typeModels.Where(t => !t.External && theirs.Contains(Full(t.CsName))))
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.NameClash, t.Loc, t.CsName, "a type", System.IO.Path.GetFileName(m.File), ns));
        }
        var all = new List<DiagInfo>(_file.Diagnostics);
        all.AddRange(_diags);
        return new GrammarModel(_file.Path, ns, _types[Key(Array.Empty<string>(), root.Id)].CsName,
            typeModels.ToEquatable(), enumModels.Concat(externalEnums).ToEquatable(), stream, all.ToEquatable(), Writers: _file.Writers);
    }

    /// <summary>
    /// What an imported type cannot do here: read _root or _parent (they would
    /// be this grammar's, not its own), or give '_' members to a repeat (its
    /// reader was generated without them).
    /// </summary>
    /// <summary>Octets and signedness of an integer primitive (u4, s2, b12).</summary>
    private static (int Bytes, bool Signed) Width(string primitive)
    {
        int bytes = primitive[0] == 'b' ? (int.Parse(primitive.Substring(1), System.Globalization.CultureInfo.InvariantCulture) + 7) / 8 : int.Parse(primitive.Substring(1), System.Globalization.CultureInfo.InvariantCulture);
        return (bytes <= 1 ? 1 : bytes <= 2 ? 2 : bytes <= 4 ? 4 : 8, primitive[0] == 's');
    }

    /// <summary>
    /// An enum as wide as what the grammar reads it from (a u1 field's enum is a byte), wide enough
    /// for its members, signed when a member is negative or a field is signed; 8 octets when a
    /// value instance (a computed integer) or nothing at all uses it.
    /// </summary>
    private static EnumModel Sized(EnumModel e, IEnumerable<TypeModel> types)
    {
        int bytes = 0;
        bool signed = e.Signed, unsignedAtWidest = false;
        void Use(string? primitive)
        {
            if (primitive is null || primitive is "bool" or "b1" || !(primitive[0] is 'u' or 's' or 'b')) { bytes = 8; return; }
            var (w, s) = Width(primitive);
            if (w > bytes) { bytes = w; unsignedAtWidest = !s; }
            else if (w == bytes && !s) unsignedAtWidest = true;
            signed |= s;
        }
        foreach (var t in types)
        {
            foreach (var f in t.Fields.Concat(t.ParseInstances.Select(p => p.Field)))
                if (f.EnumCsName == e.CsName) Use(f.Kind == FieldKind.Primitive ? f.Primitive : null);
            foreach (var p in t.Params)
                if (p.EnumCsName == e.CsName) Use(p.Primitive);
            foreach (var i in t.Instances)
                if (i.EnumCsName == e.CsName) bytes = 8;
        }
        if (bytes == 0) bytes = 8;
        int useBytes = bytes;
        foreach (var m in e.Members)
        {
            int need = signed
                ? unchecked((long)m.Value) is >= sbyte.MinValue and <= sbyte.MaxValue ? 1 : unchecked((long)m.Value) is >= short.MinValue and <= short.MaxValue ? 2 : unchecked((long)m.Value) is >= int.MinValue and <= int.MaxValue ? 4 : 8
                : m.Value <= byte.MaxValue ? 1 : m.Value <= ushort.MaxValue ? 2 : m.Value <= uint.MaxValue ? 4 : 8;
            bytes = Math.Max(bytes, need);
        }
        // Signed, and also read from an unsigned field as wide: every value of that field must fit.
        if (signed && unsignedAtWidest) bytes = Math.Max(bytes, Math.Min(8, useBytes * 2));
        return e with { Signed = signed, Bytes = bytes };
    }

    /// <summary>Another grammar's enum read here from a wider (or differently signed) integer than it holds would lose values.</summary>
    private void CheckExternalEnumWidths(IEnumerable<TypeModel> types, List<EnumModel> externals)
    {
        var byName = externals.ToDictionary(e => e.CsName, StringComparer.Ordinal);
        void Check(string? enumCs, string? primitive, Loc loc)
        {
            if (enumCs is null || primitive is null || primitive is "bool" or "b1" || !byName.TryGetValue(enumCs, out var e)) return;
            // Values are bit patterns: only a wider integer loses them.
            if (Width(primitive).Bytes > e.Bytes)
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, loc,
                    "Reading enum '" + e.KsyId + "' of another grammar (" + e.Underlying + " there) from a " + primitive + " field"));
        }
        foreach (var t in types)
        {
            foreach (var f in t.Fields.Concat(t.ParseInstances.Select(p => p.Field)))
                if (f.Kind == FieldKind.Primitive) Check(f.EnumCsName, f.Primitive, f.Loc);
            foreach (var p in t.Params) Check(p.EnumCsName, p.Primitive, p.Loc);
        }
    }

    private void CheckExternalUses(List<TypeModel> types)
    {
        var byName = types.ToDictionary(t => t.CsName, StringComparer.Ordinal);
        foreach (var t in types.Where(t => !t.External))
            foreach (var f in t.Fields.Concat(t.ParseInstances.Select(p => p.Field)))
            {
                var used = f.UserType is not null ? new[] { f.UserType } : f.Switch?.AllCases.Select(c => c.TypeCsName).ToArray() ?? Array.Empty<string>();
                foreach (var u in used)
                {
                    if (!byName.TryGetValue(u, out var ext) || !ext.External) continue;
                    // Another grammar's root type is its own _root (Kaitai reads it so): what it reads gets its values there.
                    if (!ext.IsRoot && ReadsAbove(ext, byName, new HashSet<string>(StringComparer.Ordinal)))
                        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, f.Loc, "Using type '" + ext.KsyId + "' of another grammar, which reads _root or _parent,"));
                    else if (_exports.TryGetValue(u, out var wanted) && wanted.Count > 0)
                        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, f.Loc, "Reading '_." + wanted.First() + "' of a repeated type of another grammar"));
                }
            }
    }

    /// <summary>Whether a type, or one below it (not through a root), reads _root or _parent.</summary>
    // Visits each type once: a type that contains itself (a tree) is walked once, not 2^depth times.
    private static bool ReadsAbove(TypeModel t, Dictionary<string, TypeModel> byName, HashSet<string> seen)
    {
        if (t.Needs.Count > 0) return true;
        if (!seen.Add(t.CsName)) return false;
        foreach (var f in t.Fields)
        {
            var used = f.UserType is not null ? new[] { f.UserType } : f.Switch?.AllCases.Select(c => c.TypeCsName).ToArray() ?? Array.Empty<string>();
            foreach (var u in used)
                if (byName.TryGetValue(u, out var c) && !c.IsRoot && ReadsAbove(c, byName, seen)) return true;
        }
        return false;
    }

    /// <summary>
    /// A type whose fields are all single primitives, used by no switch and not
    /// the root or a streamed element, is a record struct: no allocation per value.
    /// </summary>
    private static bool IsStructType(TypeModel t, StreamModel? stream)
        => !t.IsRoot && t.Unions.Count == 0 && stream?.ElementCsName != t.CsName && t.Fields.Count > 0 && t.ParseInstances.Count == 0
           && t.Fields.All(f => f.Kind == FieldKind.Primitive && f.Repeat == RepeatKind.None && f.If is null);

    /// <summary>
    /// A type that can contain itself (a tree, a linked list: through its
    /// fields, switch cases or parse instances, directly or through other
    /// types) nests as deep as its input says: its reader counts the levels.
    /// </summary>
    private static List<TypeModel> MarkNesting(List<TypeModel> types)
    {
        var byName = types.ToDictionary(t => t.CsName, StringComparer.Ordinal);
        IEnumerable<string> Uses(TypeModel t) => t.Fields.Concat(t.ParseInstances.Select(p => p.Field))
            .SelectMany(f => f.UserType is not null ? new[] { f.UserType } : f.Switch?.AllCases.Select(c => c.TypeCsName) ?? Enumerable.Empty<string>())
            .Where(byName.ContainsKey);
        bool Reaches(string from, string target)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var todo = new Stack<string>(Uses(byName[from]));
            while (todo.Count > 0)
            {
                var u = todo.Pop();
                if (u == target) return true;
                if (seen.Add(u)) foreach (var v in Uses(byName[u])) todo.Push(v);
            }
            return false;
        }
        return types.Select(t => !t.External && Reaches(t.CsName, t.CsName) ? t with { Nests = true } : t).ToList();
    }

    /// <summary>
    /// A type that contains itself whatever its octets say (through fields with no 'if', read once,
    /// by 'repeat: until', which reads at least one element, or by a constant count: no switch and
    /// no parse instance on the way) has no finite model, so no input holds one. Kaitai accepts such
    /// a grammar and fails on every input that reaches the type; FG0021 names the way round, once
    /// per cycle, at the field of its first type that starts it.
    /// </summary>
    private void CheckEndless(List<TypeModel> types)
    {
        var byName = types.Where(t => !t.External).ToDictionary(t => t.CsName, StringComparer.Ordinal);
        IEnumerable<FieldModel> Always(TypeModel t) => t.Fields.Where(f =>
            f.If is null && f.Kind == FieldKind.User && f.UserType is not null && byName.ContainsKey(f.UserType)
            && (f.Repeat is RepeatKind.None or RepeatKind.Until || f.Repeat == RepeatKind.Expr && f.RepeatExpr?.Expr is IntLit { Value: > 0 }));
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in types.Where(t => !t.External))
        {
            if (reported.Contains(t.CsName)) continue;
            // The shortest way from t back to itself, if any: each type reached, by which field of which type.
            var via = new Dictionary<string, (TypeModel From, FieldModel Field)>(StringComparer.Ordinal);
            var todo = new Queue<TypeModel>();
            todo.Enqueue(t);
            (TypeModel From, FieldModel Field)? closing = null;
            while (todo.Count > 0 && closing is null)
            {
                var u = todo.Dequeue();
                foreach (var f in Always(u))
                {
                    if (f.UserType == t.CsName) { closing = (u, f); break; }
                    if (via.ContainsKey(f.UserType!)) continue;
                    via[f.UserType!] = (u, f);
                    todo.Enqueue(byName[f.UserType!]);
                }
            }
            if (closing is not { } last) continue;
            var cycle = new List<(TypeModel From, FieldModel Field)> { last };
            for (var at = last.From; at.CsName != t.CsName; at = via[at.CsName].From) cycle.Insert(0, via[at.CsName]);
            foreach (var step in cycle) reported.Add(step.From.CsName);
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.EndlessType, cycle[0].Field.Loc, t.KsyId,
                string.Join(" -> ", cycle.Select(s => s.From.KsyId + "." + s.Field.Id)) + " -> " + t.KsyId));
        }
    }

    /// <summary>
    /// A type read inside a size (size, size-eos) may leave octets after its
    /// fields: its model keeps them (Slack), so writing it back reproduces them.
    /// </summary>
    private List<TypeModel> MarkSlack(List<TypeModel> types)
    {
        var sized = new HashSet<string>(StringComparer.Ordinal);
        var byName = types.ToDictionary(t => t.CsName, StringComparer.Ordinal);
        foreach (var t in types.Where(t => !t.External))
            foreach (var f in t.Fields.Concat(t.ParseInstances.Select(p => p.Field)))
            {
                if (f.Size is null && !f.SizeEos) continue;
                var users = f.Kind == FieldKind.User ? new[] { f.UserType! }
                    : f.Kind == FieldKind.Switch ? f.Switch!.AllCases.Select(c => c.TypeCsName).Where(c => byName.ContainsKey(c)).ToArray()
                    : Array.Empty<string>();
                foreach (var u in users)
                {
                    // A fixed-size type of another grammar keeps slack only if that grammar sizes it.
                    if (byName[u] is { External: true, KeepsSlack: false } ext)
                        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, f.Loc, "A sized field of the fixed-size type '" + ext.KsyId + "' of another grammar, which that grammar never reads in a size,"));
                    sized.Add(u);
                }
            }
        // Every type but a fixed-size struct keeps slack (another grammar may read it in a size;
        // a root keeps what follows its fields in its input); a struct does where a size holds it.
        return types.Select(t => !t.External && (!t.IsStruct || sized.Contains(t.CsName)) ? t with { KeepsSlack = true } : t).ToList();
    }

    private static string Key(string[] scope, string id) => string.Join("/", scope) + "|" + id;

    private void Collect(TypeSpec t, string[] scope)
    {
        var cs = UniqueName(t.Id, scope);
        _types[Key(scope, t.Id)] = (t, scope, cs);
        var inner = scope.Concat(new[] { t.Id }).ToArray();
        var enumIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in t.Enums)
        {
            if (!enumIds.Add(e.Id)) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, e.Loc, e.Id));
            _enums[Key(inner, e.Id)] = (e, inner, UniqueName(e.Id, inner));
        }
        foreach (var nested in t.Types) Collect(nested, inner);
    }

    /// <summary>
    /// A C# name for a type or enum: its own name, or, when another type or enum
    /// of the grammar has it already (Kaitai scopes names; C# namespaces do not),
    /// qualified by the types it is nested in.
    /// </summary>
    private string UniqueName(string id, string[] scope)
    {
        var name = Pascal(id);
        for (int n = scope.Length - 1; _csNames.Contains(name) && n >= 0; n--) name = Pascal(scope[n]) + name;
        var baseName = name;
        for (int i = 2; _csNames.Contains(name); i++) name = baseName + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _csNames.Add(name);
        return name;
    }

    /// <summary>Kaitai's lookup: the type's own nested types, then each enclosing type's; a path a::b from the first found.</summary>
    private string? ResolveType(string name, string[] scope, string self)
    {
        var inner = scope.Concat(new[] { self }).ToList();
        if (name.Contains("::"))
        {
            var path = TypePath(name.Split(new[] { "::" }, StringSplitOptions.None), inner);
            return path is null ? ImportedType(name) : _types[Key(path.Take(path.Length - 1).ToArray(), path[path.Length - 1])].CsName;
        }
        for (int n = inner.Count; n >= 0; n--)
        {
            var key = Key(inner.Take(n).ToArray(), name);
            if (_types.TryGetValue(key, out var t)) return t.CsName;
        }
        return ImportedType(name);
    }

    /// <summary>An imported grammar's type: 'id' is its root, 'id::a::b' a type nested in it.</summary>
    private string? ImportedType(string name)
    {
        var parts = name.Split(new[] { "::" }, StringSplitOptions.None);
        if (!_importsById.TryGetValue(parts[0], out var m)) return null;
        if (parts.Length == 1) return m.RootCsName;
        var prefix = "global::" + m.Namespace + ".";
        return m.Types.FirstOrDefault(t => !t.IsRoot && t.CsName.StartsWith(prefix, StringComparison.Ordinal) && t.KsyId == parts[parts.Length - 1]
                                           && t.Scope.SequenceEqual(parts.Take(parts.Length - 1)))?.CsName;
    }

    /// <summary>An imported grammar's enum: 'id::e' in its root, 'id::a::e' in a type of it.</summary>
    private string? ImportedEnum(string[] parts)
    {
        if (parts.Length < 2 || !_importsById.TryGetValue(parts[0], out var m)) return null;
        var prefix = "global::" + m.Namespace + ".";
        return m.Enums.FirstOrDefault(e => e.CsName.StartsWith(prefix, StringComparison.Ordinal) && e.KsyId == parts[parts.Length - 1]
                                           && e.Scope.SequenceEqual(parts.Take(parts.Length - 1)))?.CsName;
    }

    /// <summary>How many parameters a type (of this grammar or an imported one) takes.</summary>
    private int ParamCountOf(string cs)
        => _types.Values.FirstOrDefault(t => t.CsName == cs).Spec?.Params.Count
           ?? _externals.SelectMany(m => m.Types).First(t => t.CsName == cs).Params.Count;

    /// <summary>
    /// Kaitai's lookup of an enum: a bare name in the type and each enclosing
    /// type; a path (a::b::e) through types from the first one found that way.
    /// </summary>
    private string? ResolveEnum(string name, string[] scope, string self)
    {
        var parts = name.Split(new[] { "::" }, StringSplitOptions.None);
        var inner = scope.Concat(new[] { self }).ToList();
        if (parts.Length == 1)
        {
            for (int n = inner.Count; n >= 0; n--)
                if (_enums.TryGetValue(Key(inner.Take(n).ToArray(), name), out var e)) return e.CsName;
            return null;
        }
        var path = TypePath(parts.Take(parts.Length - 1).ToArray(), inner);
        return path is not null && _enums.TryGetValue(Key(path, parts[parts.Length - 1]), out var pe) ? pe.CsName : ImportedEnum(parts);
    }

    /// <summary>The scope (ksy ids from the root) of the type a::b names, seen from <paramref name="from"/>.</summary>
    private string[]? TypePath(string[] parts, List<string> from)
    {
        for (int n = from.Count; n >= 0; n--)
        {
            var head = from.Take(n).ToArray();
            if (!_types.ContainsKey(Key(head, parts[0]))) continue;
            var path = head.Concat(new[] { parts[0] }).ToList();
            foreach (var p in parts.Skip(1))
            {
                if (!_types.ContainsKey(Key(path.ToArray(), p))) return null;
                path.Add(p);
            }
            return path.ToArray();
        }
        return null;
    }

    private ExprText? Parse(Scalar? s)
    {
        if (s is null) return null;
        try
        {
            return new ExprText(ExprParser.Parse(s.Text), s.Text, s.Loc);
        }
        catch (ExprSyntaxException e)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.ExpressionSyntax, s.Loc, s.Text, e.Message));
            return null;
        }
    }

    private static (string Name, string? Args) SplitTypeRef(string text)
    {
        // A type with arguments may be written over several lines (a YAML block scalar).
        text = text.Trim();
        int p = text.IndexOf('(');
        if (p < 0 || !text.EndsWith(")", StringComparison.Ordinal)) return (text.Trim(), null);
        return (text.Substring(0, p).Trim(), text.Substring(p + 1, text.Length - p - 2));
    }

    private List<ExprText> ParseArgs(string? args, Loc loc)
    {
        var list = new List<ExprText>();
        if (string.IsNullOrWhiteSpace(args)) return list;
        int depth = 0, start = 0;
        for (int i = 0; i <= args!.Length; i++)
        {
            if (i == args.Length || (args[i] == ',' && depth == 0))
            {
                var e = Parse(new Scalar(args.Substring(start, i - start).Trim(), loc));
                if (e is not null) list.Add(e);
                start = i + 1;
            }
            else if (args[i] == '(') depth++;
            else if (args[i] == ')') depth--;
        }
        return list;
    }

    /// <summary>The seq fields of a type and what its parse instances read.</summary>
    private static IEnumerable<AttrSpec> Attrs(TypeSpec spec) => spec.Seq.Concat(spec.Instances.Where(i => i.Parse is not null).Select(i => i.Parse!));

    private void PrepareUnions(TypeSpec spec, string[] scope, string cs)
    {
        foreach (var a in Attrs(spec))
        {
            if (a.Switch is null) continue;
            var iface = "I" + cs + Pascal(a.Id);
            var unknown = cs + Pascal(a.Id) + "Unknown";
            _unionOf[cs + "." + a.Id] = (iface, unknown);
            foreach (var c in a.Switch.Cases)
            {
                var (name, _) = SplitTypeRef(c.Type.Text);
                if (CaseValueType(name) is not null) continue;
                var caseCs = ResolveType(name, scope, spec.Id);
                if (caseCs is null) continue;
                if (!_unionsByCase.TryGetValue(caseCs, out var l)) _unionsByCase[caseCs] = l = new List<string>();
                if (!l.Contains(iface)) l.Add(iface);
            }
        }
    }

    /// <summary>Members read through <c>_</c> of repeated elements (repeat-until, count predicates).</summary>
    private void CollectExports(TypeSpec spec, string[] scope)
    {
        foreach (var a in Attrs(spec))
        {
            if (a.Type is null || a.Repeat is null) continue;
            var elemCs = ResolveType(SplitTypeRef(a.Type.Text).Name, scope, spec.Id);
            if (elemCs is null) continue;
            if (a.RepeatUntil is not null && Parse(a.RepeatUntil) is { } until) AddUnderscoreMembers(elemCs, until.Expr);
            foreach (var c in spec.Checks)
                if (Parse(c.Expr) is { } ce) FindCounts(ce.Expr, a.Id, elemCs);
        }
    }

    private void FindCounts(Expr e, string field, string elemCs)
    {
        switch (e)
        {
            case MethodCall mc when mc.Target is NameRef n && n.Id == field: AddUnderscoreMembers(elemCs, mc.Arg); break;
            case MethodCall mc: FindCounts(mc.Target, field, elemCs); FindCounts(mc.Arg, field, elemCs); break;
            case MemberRef m: FindCounts(m.Target, field, elemCs); break;
            case Unary u: FindCounts(u.Operand, field, elemCs); break;
            case Binary b: FindCounts(b.Left, field, elemCs); FindCounts(b.Right, field, elemCs); break;
            case Ternary t: FindCounts(t.Cond, field, elemCs); FindCounts(t.Then, field, elemCs); FindCounts(t.Else, field, elemCs); break;
        }
    }

    private void AddUnderscoreMembers(string typeCs, Expr e)
    {
        switch (e)
        {
            case MemberRef m when m.Target is NameRef n && n.Id == "_":
                if (!_exports.TryGetValue(typeCs, out var set)) _exports[typeCs] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(m.Name);
                break;
            case MemberRef m: AddUnderscoreMembers(typeCs, m.Target); break;
            case MethodCall mc: AddUnderscoreMembers(typeCs, mc.Target); AddUnderscoreMembers(typeCs, mc.Arg); break;
            case Unary u: AddUnderscoreMembers(typeCs, u.Operand); break;
            case Binary b: AddUnderscoreMembers(typeCs, b.Left); AddUnderscoreMembers(typeCs, b.Right); break;
            case Ternary t: AddUnderscoreMembers(typeCs, t.Cond); AddUnderscoreMembers(typeCs, t.Then); AddUnderscoreMembers(typeCs, t.Else); break;
        }
    }

    private TypeModel BuildType(TypeSpec spec, string[] scope, string cs, bool isRoot)
    {
        var endian = BuildEndian(spec, scope);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pars = new List<ParamModel>();
        foreach (var p in spec.Params)
        {
            if (!names.Add(p.Id)) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, p.Loc, p.Id));
            var (prim, enumCs, type) = ParamType(p.Type.Text.Trim(), p, scope, spec.Id);
            pars.Add(new ParamModel(p.Id, Pascal(p.Id), prim, enumCs, p.Loc, p.Doc, type));
        }
        var fields = new List<FieldModel>();
        foreach (var a in spec.Seq)
        {
            if (!names.Add(a.Id)) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, a.Loc, a.Id));
            var f = BuildField(a, spec, scope, cs);
            if (f is not null) fields.Add(f);
        }
        fields = Derive(fields);
        var inst = new List<InstanceModel>();
        var parsed = new List<ParseInstanceModel>();
        foreach (var i in spec.Instances)
        {
            if (!names.Add(i.Id)) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateName, i.Loc, i.Id));
            if (i.Parse is not null)
            {
                if (BuildParseInstance(i, spec, scope, cs, pars) is { } pi) parsed.Add(pi);
                continue;
            }
            var v = Parse(i.Value);
            if (v is null) continue;
            string? enumCs = null;
            if (i.Enum is not null)
            {
                enumCs = ResolveEnum(i.Enum.Text, scope, spec.Id);
                if (enumCs is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownEnum, i.Enum.Loc, i.Enum.Text));
            }
            inst.Add(new InstanceModel(i.Id, MemberName(i.Id, cs), v, enumCs, i.Doc, i.Loc, i.If is null ? null : Parse(i.If)));
        }
        var checks = new List<CheckModel>();
        foreach (var c in spec.Checks)
            if (Parse(c.Expr) is { } e)
                checks.Add(new CheckModel(c.Rule, e, c.Severity, c.Doc, c.Loc,
                    Template(c.Expect) ?? Literal(e.Text.Trim()), Template(c.Found) ?? EquatableArray<TemplatePart>.Empty));
        var exports = _exports.TryGetValue(cs, out var ex) ? ex.OrderBy(x => x, StringComparer.Ordinal).ToEquatable() : EquatableArray<string>.Empty;
        foreach (var x in exports)
            if (!fields.Any(f => f.Id == x && f.Kind == FieldKind.Primitive && f.Repeat == RepeatKind.None) && !inst.Any(i => i.Id == x))
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, spec.Loc, "Reading '_." + x + "' of a repeated '" + spec.Id + "' (only its primitive fields and value instances)"));
        var unions = _unionsByCase.TryGetValue(cs, out var u) ? u.ToEquatable() : EquatableArray<string>.Empty;
        string? parentCs = scope.Length == 0 ? null : _types[Key(scope.Take(scope.Length - 1).ToArray(), scope[scope.Length - 1])].CsName;
        return new TypeModel(spec.Id, cs, parentCs, spec.Loc, spec.Doc, endian, fields.ToEquatable(), pars.ToEquatable(),
            inst.ToEquatable(), checks.ToEquatable(), unions, exports, isRoot, scope.ToEquatable(), ParseInstances: parsed.ToEquatable());
    }

    /// <summary>A parse instance: its field as a seq field would be, and where it is read from.</summary>
    private ParseInstanceModel? BuildParseInstance(InstanceSpec i, TypeSpec owner, string[] scope, string ownerCs, List<ParamModel> pars)
    {
        var field = BuildField(i.Parse!, owner, scope, ownerCs);
        if (field is null) return null;
        if (field.Valid is not null)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, field.Valid.Loc, "'valid' on a parse instance"));
            return null;
        }
        if (field.Stream) return null; // reported: -fg-stream needs a repeated seq field
        bool rootIo = false;
        string? ioParam = null;
        ExprText? ioExpr = null;
        if (i.Io is { } io)
        {
            var text = io.Text.Replace(" ", "");
            if (text == "_root._io") rootIo = true;
            else if (pars.FirstOrDefault(p => p.Id == text) is { Type.Kind: TKind.Io }) ioParam = text;
            // Another value's stream (header._io, _parent._io): an expression, checked with the others.
            else if (text != "_io" && (ioExpr = Parse(io)) is null) return null;
        }
        return new ParseInstanceModel(i.Id, MemberName(i.Id, ownerCs), field, Parse(i.Pos), rootIo, i.Doc, i.Loc, ioParam, ioExpr);
    }

    /// <summary>
    /// A parameter's type, as Kaitai writes it: an integer (with its enum), bool,
    /// f4/f8, str, bytes, a user type, 'struct' (any), 'io', or a list (T[]).
    /// </summary>
    private (string Prim, string? EnumCs, ExprType? Type) ParamType(string t, ParamSpec p, string[] scope, string self)
    {
        if (t.EndsWith("[]", StringComparison.Ordinal))
        {
            var (ep, ee, et) = ParamType(t.Substring(0, t.Length - 2).Trim(), p with { Enum = null }, scope, self);
            var elem = et ?? (ee is not null ? ExprType.Enum(ee) : ep == "bool" ? ExprType.Bool : ep == "u8" ? ExprType.ULong : ExprType.Long);
            return (ep, null, ExprType.ArrayOf(elem));
        }
        if (Primitives.Contains(StripEndian(t)))
        {
            string? enumCs = null;
            if (p.Enum is { } e)
            {
                enumCs = ResolveEnum(e.Text, scope, self);
                if (enumCs is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownEnum, e.Loc, e.Text));
            }
            return (StripEndian(t), enumCs, null);
        }
        switch (t)
        {
            case "bool" or "b1": return ("bool", null, null);
            case "f4" or "f8" or "f4le" or "f4be" or "f8le" or "f8be": return (StripEndian(t), null, ExprType.Float);
            case "str": return ("str", null, ExprType.Str);
            case "bytes": return ("bytes", null, ExprType.Bytes);
            case "io": return ("io", null, ExprType.Io);
            case "struct": return ("struct", null, ExprType.AnyStruct);
        }
        if (ResolveType(SplitTypeRef(t).Name, scope, self) is { } cs) return ("user", null, ExprType.User(cs));
        _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownType, p.Type.Loc, t));
        return ("u8", null, null);
    }

    private static string StripEndian(string t) => t.EndsWith("le", StringComparison.Ordinal) || t.EndsWith("be", StringComparison.Ordinal) ? t.Substring(0, t.Length - 2) : t;

    private EndianModel BuildEndian(TypeSpec spec, string[] scope)
    {
        var e = spec.Endian;
        if (e is null)
        {
            // Inherit: from the nearest enclosing type that says; a calculated one is passed at run time.
            for (int n = scope.Length; n > 0; n--)
            {
                var outer = _types[Key(scope.Take(n - 1).ToArray(), scope[n - 1])].Spec.Endian;
                if (outer is null) continue;
                if (outer.Fixed is not null) return new EndianModel(outer.Fixed == "le" ? EndianKind.LittleEndian : EndianKind.BigEndian, null, EquatableArray<EndianCaseModel>.Empty);
                return new EndianModel(EndianKind.Inherit, null, EquatableArray<EndianCaseModel>.Empty);
            }
            return new EndianModel(EndianKind.Inherit, null, EquatableArray<EndianCaseModel>.Empty);
        }
        if (e.Fixed is not null) return new EndianModel(e.Fixed == "le" ? EndianKind.LittleEndian : EndianKind.BigEndian, null, EquatableArray<EndianCaseModel>.Empty);
        var on = Parse(e.SwitchOn);
        var cases = new List<EndianCaseModel>();
        foreach (var c in e.Cases)
        {
            if (c.Value is not ("le" or "be")) { _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, c.Key.Loc, "endian/cases", "le or be")); continue; }
            if (Parse(c.Key) is { } k) cases.Add(new EndianCaseModel(k, c.Value == "le"));
        }
        return new EndianModel(EndianKind.Switch, on, cases.ToEquatable());
    }

    private FieldModel? BuildField(AttrSpec a, TypeSpec owner, string[] scope, string ownerCs)
    {
        FieldKind kind;
        string? prim = null, user = null, enumCs = null, byteOrder = null;
        var args = new List<ExprText>();
        SwitchModel? sw = null;
        if (a.Switch is not null)
        {
            kind = FieldKind.Switch;
            sw = BuildSwitch(a, owner, scope, ownerCs);
            // Its switch-on or cases were reported: the field is left out, as one of an unknown type is.
            if (sw is null) return null;
        }
        else if (a.Type is null)
        {
            kind = FieldKind.Bytes;
        }
        else
        {
            var (name, argText) = SplitTypeRef(a.Type.Text);
            if (Primitives.Contains(StripEndian(name)))
            {
                kind = FieldKind.Primitive;
                prim = StripEndian(name);
                if (name != prim) byteOrder = name.Substring(2);
            }
            else if (name is "str" or "strz")
            {
                kind = FieldKind.Str;
            }
            else if (StripEndian(name) is "f4" or "f8")
            {
                kind = FieldKind.Primitive;
                prim = StripEndian(name);
                if (name != prim) byteOrder = name.Substring(2);
            }
            else if (BitType(name) is { } bits)
            {
                kind = FieldKind.Primitive;
                prim = "b" + bits.Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
                byteOrder = bits.Order ?? BitEndianOf(owner, scope) ?? "be";
            }
            else
            {
                user = ResolveType(name, scope, owner.Id);
                if (user is null) { _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownType, a.Type.Loc, name)); return null; }
                kind = FieldKind.User;
                args = ParseArgs(argText, a.Type.Loc);
                var paramCount = ParamCountOf(user);
                if (paramCount != args.Count)
                    _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadParams, a.Type.Loc, name,
                        paramCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        args.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        if (a.Enum is not null)
        {
            enumCs = ResolveEnum(a.Enum.Text, scope, owner.Id);
            if (enumCs is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownEnum, a.Enum.Loc, a.Enum.Text));
            if (kind != FieldKind.Primitive) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, a.Enum.Loc, "enum", "only integer fields can be enums"));
        }
        var repeat = a.Repeat switch
        {
            null => RepeatKind.None,
            "expr" => RepeatKind.Expr,
            "until" => RepeatKind.Until,
            "eos" => RepeatKind.Eos,
            _ => (RepeatKind?)null,
        };
        if (repeat is null)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, a.RepeatLoc ?? a.Loc, "repeat", "expr, until or eos"));
            repeat = RepeatKind.None;
        }
        if (repeat == RepeatKind.Expr && a.RepeatExpr is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, a.Loc, "repeat: expr", "repeat-expr"));
        if (repeat == RepeatKind.Until && a.RepeatUntil is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, a.Loc, "repeat: until", "repeat-until"));
        var contents = new List<byte>();
        foreach (var c in a.Contents)
        {
            if (KsyParserTryByte(c.Text, out var b)) contents.Add(b);
            else _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, c.Loc, "contents", "octets 0-255"));
        }
        ValidModel? valid = null;
        if (a.Valid is { } v)
        {
            if (kind is FieldKind.User or FieldKind.Switch)
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, v.Loc, "'valid' on a user-typed field"));
            else
            {
                var anyOf = v.AnyOf.Select(Parse).Where(x => x is not null).Select(x => x!).ToEquatable();
                valid = new ValidModel(v.Loc, a.Rule ?? (owner.Id + "." + a.Id).Replace('_', '-'), a.Severity ?? "error",
                    Parse(v.Eq), Parse(v.Min), Parse(v.Max), anyOf, v.InEnum, Parse(v.Expr), a.Doc,
                    Template(a.Expect) ?? Literal(DefaultExpectation(v, enumCs)), Template(a.Found) ?? EquatableArray<TemplatePart>.Empty);
            }
            if (v.InEnum && enumCs is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, v.Loc, "in-enum", "the field has no enum"));
        }
        if ((a.Expect is not null || a.Found is not null) && a.Valid is null)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, (a.Expect ?? a.Found)!.Loc, a.Expect is not null ? "-fg-expect" : "-fg-found", "it words the message of a 'valid' rule; the field has none"));
        if (a.Limit && a.Size is null)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, a.Loc, "-fg-limit", "the length limit applies to a field with 'size'"));
        if (kind == FieldKind.Primitive && (a.Size is not null || a.SizeEos))
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, a.Size?.Loc ?? a.Loc, "'size' on an integer field"));
        ExprText? size = Parse(a.Size);
        if (repeat != RepeatKind.None && contents.Count > 0 && valid is null && size is null)
        {
            // Each element is the contents: octets of that size, each checked against them (Kaitai's tree has a list of them too).
            var literal = "[" + string.Join(", ", contents.Select(b => "0x" + b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))) + "]";
            size = Parse(new Scalar(contents.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), a.Loc));
            valid = new ValidModel(a.Loc, a.Rule ?? (owner.Id + "." + a.Id).Replace('_', '-'), a.Severity ?? "error", Parse(new Scalar(literal, a.Loc)), null, null,
                EquatableArray<ExprText>.Empty, false, null, a.Doc, Literal(literal), EquatableArray<TemplatePart>.Empty);
            contents.Clear();
        }
        else if (repeat != RepeatKind.None && contents.Count > 0)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, a.Loc, "'contents' on a repeated field with 'size' or 'valid'"));
        if (a.Contents.Count > 0 && (a.Type is not null || a.Switch is not null))
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, a.Contents[0].Loc, "contents", "'contents' cannot be combined with 'type'"));
        // How a string or byte array ends, and a string's encoding.
        TermModel? term = null;
        string? encoding = null;
        if (kind == FieldKind.Str)
        {
            encoding = a.Encoding?.Text ?? EncodingOf(owner, scope);
            if (encoding is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, a.Type!.Loc, "A str field", "encoding (or meta/encoding)"));
            bool strz = SplitTypeRef(a.Type!.Text).Name == "strz";
            term = TermOf(a.Term, strz ? 0 : -1);
            if (a.Size is null && !a.SizeEos && term.Terminator < 0)
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, a.Loc, "A str field", "size, size-eos or terminator"));
        }
        else if (a.Term is not null)
        {
            if (kind == FieldKind.Bytes) term = TermOf(a.Term, -1);
            else _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, a.Term.Loc, "'terminator', 'pad-right', 'include', 'consume' and 'eos-error' on a typed field"));
        }
        else if (a.Encoding is not null)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, a.Encoding.Loc, "encoding", "only str and strz fields have an encoding"));
        if (kind == FieldKind.Bytes && a.Size is null && !a.SizeEos && a.Contents.Count == 0 && term is null)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, a.Loc, "Field '" + a.Id + "' without a type", "size, size-eos or terminator"));
        if (a.Handoff && (repeat != RepeatKind.None || a.If is null))
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, a.Loc, "-fg-handoff marks a field read once, with an 'if' ('if: true' when it is always there): a streamed model leaves it out; '"
                + a.Id + "' " + (repeat != RepeatKind.None ? "is repeated" : "has no 'if'")));
        if (a.Stream && repeat == RepeatKind.None)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, a.Loc, "-fg-stream marks a repeated field; '" + a.Id + "' is not repeated"));
        var process = a.Process is null ? null : BuildProcess(a, kind, repeat.Value);
        return new FieldModel(a.Id, MemberName(a.Id, ownerCs), a.Loc, a.Doc, kind, prim, user, args.ToEquatable(), sw, enumCs,
            size, a.SizeEos, repeat.Value, Parse(a.RepeatExpr), Parse(a.RepeatUntil), Parse(a.If), contents.ToEquatable(),
            valid, Derivation.None, null, a.Stream, byteOrder, a.Limit && a.Size is not null, term, encoding, process, a.Handoff && repeat == RepeatKind.None && a.If is not null);
    }

    /// <summary>process: xor(key), rol(n), ror(n) or zlib, on a byte array or a sized user type.</summary>
    private ProcessModel? BuildProcess(AttrSpec a, FieldKind kind, RepeatKind repeat)
    {
        var p = a.Process!;
        var text = p.Text.Trim();
        int open = text.IndexOf('(');
        var name = open < 0 ? text : text.Substring(0, open).Trim();
        string? argText = null;
        if (open >= 0)
        {
            if (!text.EndsWith(")", StringComparison.Ordinal))
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, p.Loc, "process", "xor(key), rol(n), ror(n) or zlib"));
                return null;
            }
            argText = text.Substring(open + 1, text.Length - open - 2).Trim();
        }
        if (name is not ("xor" or "rol" or "ror" or "zlib"))
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, p.Loc, "A custom process routine ('" + name + "')"));
            return null;
        }
        if ((name == "zlib") != (argText is null || argText.Length == 0))
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, p.Loc, "process", name == "zlib" ? "zlib takes no argument" : name + " takes one argument"));
            return null;
        }
        if (repeat != RepeatKind.None || kind is not (FieldKind.Bytes or FieldKind.User) || kind == FieldKind.User && a.Size is null && !a.SizeEos)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnsupportedFeature, p.Loc, "'process' on a field other than a byte array or a sized user type (here: "
                + (repeat != RepeatKind.None ? "a repeated field" : kind == FieldKind.User ? "a user type without size" : kind.ToString().ToLowerInvariant()) + ")"));
            return null;
        }
        var arg = argText is null || argText.Length == 0 ? null : Parse(new Scalar(argText, p.Loc));
        return new ProcessModel(name, arg, p.Loc);
    }

    /// <summary>bX, bXle, bXbe: a bit-sized integer of 1 to 64 bits and its bit order.</summary>
    private static (int Width, string? Order)? BitType(string name)
    {
        if (name.Length < 2 || name[0] != 'b' || !char.IsDigit(name[1])) return null;
        string? order = name.EndsWith("le", StringComparison.Ordinal) ? "le" : name.EndsWith("be", StringComparison.Ordinal) ? "be" : null;
        var digits = order is null ? name.Substring(1) : name.Substring(1, name.Length - 3);
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var w) && w is >= 1 and <= 64 ? (w, order) : null;
    }

    /// <summary>meta/bit-endian of the type or the nearest enclosing type that has one.</summary>
    private string? BitEndianOf(TypeSpec owner, string[] scope)
    {
        if (owner.BitEndian is { } e) return e.Text;
        for (int n = scope.Length; n > 0; n--)
            if (_types[Key(scope.Take(n - 1).ToArray(), scope[n - 1])].Spec.BitEndian is { } outer) return outer.Text;
        return null;
    }

    private TermModel TermOf(TermSpec? t, int defaultTerminator)
    {
        int Octet(Scalar? s, int fallback)
        {
            if (s is null) return fallback;
            if (KsyParserTryByte(s.Text, out var b)) return b;
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, s.Loc, "terminator/pad-right", "an octet, 0 to 255"));
            return fallback;
        }
        return t is null
            ? new TermModel(defaultTerminator, false, true, true, -1)
            : new TermModel(Octet(t.Terminator, defaultTerminator), t.Include, t.Consume, t.EosError, Octet(t.PadRight, -1));
    }

    /// <summary>meta/encoding of the type or the nearest enclosing type that has one.</summary>
    private string? EncodingOf(TypeSpec owner, string[] scope)
    {
        if (owner.Encoding is { } e) return e.Text;
        for (int n = scope.Length; n > 0; n--)
            if (_types[Key(scope.Take(n - 1).ToArray(), scope[n - 1])].Spec.Encoding is { } outer) return outer.Text;
        return null;
    }

    /// <summary>The octets of a type, when fixed (sizeof&lt;T&gt;).</summary>
    private static long? StaticSize(TypeModel t, List<TypeModel> all, HashSet<string> path)
        => StaticBits(t, all, path) is { } bits ? (bits + 7) / 8 : null;

    /// <summary>
    /// The bits a type takes when the grammar fixes them: bit fields add their
    /// widths, anything else starts at the next octet (as Kaitai reads them).
    /// </summary>
    internal static long? StaticBits(TypeModel t, List<TypeModel> all, HashSet<string>? path = null)
    {
        // A type that contains itself has no fixed size (and is walked once).
        path ??= new HashSet<string>(StringComparer.Ordinal);
        if (!path.Add(t.CsName)) return null;
        try { return StaticBitsOf(t, all, path); }
        finally { path.Remove(t.CsName); }
    }

    private static long? StaticBitsOf(TypeModel t, List<TypeModel> all, HashSet<string> path)
    {
        long bits = 0;
        foreach (var f in t.Fields)
        {
            if (f.If is not null || f.Repeat != RepeatKind.None) return null;
            if (f.Kind == FieldKind.Primitive && f.Primitive![0] == 'b')
            {
                bits += long.Parse(f.Primitive.Substring(1), System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }
            long? s = f.Kind switch
            {
                FieldKind.Primitive => f.Primitive![1] - '0',
                FieldKind.Bytes or FieldKind.Str or FieldKind.User or FieldKind.Switch when f.Size?.Expr is IntLit il => (long)il.Value,
                FieldKind.Bytes when f.Contents.Count > 0 && f.Size is null && !f.SizeEos => f.Contents.Count,
                FieldKind.User when f.Size is null && !f.SizeEos => StaticSize(all.First(x => x.CsName == f.UserType), all, path),
                _ => null,
            };
            if (s is null) return null;
            bits = (bits + 7) / 8 * 8 + s.Value * 8;
        }
        return bits;
    }

    private static EquatableArray<TemplatePart> Literal(string text) => new[] { new TemplatePart(text, null, false) }.ToEquatable();

    /// <summary>
    /// Parses a message template: text with <c>{expr}</c> holes, printed in
    /// decimal, or in hex as <c>{expr:x}</c>. Null when none is given.
    /// </summary>
    private EquatableArray<TemplatePart>? Template(Scalar? s)
    {
        if (s is null) return null;
        var parts = new List<TemplatePart>();
        var text = s.Text;
        int i = 0;
        while (i < text.Length)
        {
            int open = text.IndexOf('{', i);
            if (open < 0) { parts.Add(new TemplatePart(text.Substring(i), null, false)); break; }
            if (open > i) parts.Add(new TemplatePart(text.Substring(i, open - i), null, false));
            int close = text.IndexOf('}', open + 1);
            if (close < 0)
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadValue, s.Loc, "message template '" + text + "'", "a '{' without its '}'"));
                return null;
            }
            var hole = text.Substring(open + 1, close - open - 1).Trim();
            bool hex = hole.EndsWith(":x", StringComparison.Ordinal) && !hole.EndsWith("::x", StringComparison.Ordinal);
            if (hex) hole = hole.Substring(0, hole.Length - 2).Trim();
            var e = Parse(new Scalar(hole, s.Loc));
            if (e is null) return null;
            parts.Add(new TemplatePart("", e, hex));
            i = close + 1;
        }
        return parts.ToEquatable();
    }

    /// <summary>What a 'valid' rule expects, in words, when the grammar does not say (<c>-fg-expect</c>).</summary>
    private string DefaultExpectation(ValidSpec v, string? enumCs)
    {
        var parts = new List<string>();
        if (v.Eq is { } eq) parts.Add(eq.Text);
        if (v.Min is { } mn && v.Max is { } mx) parts.Add(mn.Text + " to " + mx.Text);
        else if (v.Min is { } mn2) parts.Add("at least " + mn2.Text);
        else if (v.Max is { } mx2) parts.Add("at most " + mx2.Text);
        if (v.AnyOf.Count > 0) parts.Add(OrList(v.AnyOf.Select(a => a.Text).ToList()));
        if (v.InEnum && enumCs is not null && _enums.Values.FirstOrDefault(e => e.CsName == enumCs).Spec is { } es)
            parts.Add(es.Members.Count <= 8
                ? OrList(es.Members.Select(m => m.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + " (" + m.Name + ")").ToList())
                : "a defined " + es.Id + " value");
        if (v.Expr is { } ex) parts.Add(ex.Text.Trim());
        return string.Join(", ", parts);
    }

    private static string OrList(List<string> items)
        => items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " or " + items[items.Count - 1];

    private SwitchModel? BuildSwitch(AttrSpec a, TypeSpec owner, string[] scope, string ownerCs)
    {
        var on = Parse(a.Switch!.On);
        var (iface, unknown) = _unionOf[ownerCs + "." + a.Id];
        var cases = new List<CaseModel>();
        CaseModel? deflt = null;
        var wrappers = new List<WrapperModel>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in a.Switch.Cases)
        {
            var (name, argText) = SplitTypeRef(c.Type.Text);
            string? caseCs;
            if (CaseValueType(name) is { } kind)
            {
                // A primitive or string case: its value is held by a generated record.
                caseCs = unknown.Substring(0, unknown.Length - "Unknown".Length) + Pascal(name);
                if (!wrappers.Any(x => x.CsName == caseCs))
                {
                    var bits = BitType(name);
                    var prim = kind != FieldKind.Primitive ? null : bits is { } bw ? "b" + bw.Width.ToString(System.Globalization.CultureInfo.InvariantCulture) : StripEndian(name);
                    var order = bits is { } bo ? bo.Order ?? BitEndianOf(owner, scope) ?? "be" : prim is not null && name != prim ? name.Substring(2) : null;
                    string? encoding = null;
                    TermModel? term = null;
                    if (kind == FieldKind.Str)
                    {
                        encoding = a.Encoding?.Text ?? EncodingOf(owner, scope);
                        if (encoding is null) _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, c.Type.Loc, "A str case", "encoding (or meta/encoding)"));
                        term = TermOf(a.Term, name == "strz" ? 0 : -1);
                        if (a.Size is null && !a.SizeEos && term.Terminator < 0)
                            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingKey, c.Type.Loc, "A str case", "size, size-eos or terminator"));
                    }
                    wrappers.Add(new WrapperModel(caseCs, name, kind, prim, order, encoding, term, KeepsSlack: a.Size is not null || a.SizeEos));
                }
            }
            else
            {
                caseCs = ResolveType(name, scope, owner.Id);
                if (caseCs is null)
                {
                    _diags.Add(DiagInfo.Of(DiagnosticDescriptors.UnknownType, c.Type.Loc, name));
                    continue;
                }
                var args = ParseArgs(argText, c.Type.Loc);
                var paramCount = ParamCountOf(caseCs);
                if (paramCount != args.Count)
                {
                    _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadParams, c.Type.Loc, name,
                        paramCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        args.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    continue;
                }
            }
            var argList = CaseValueType(name) is null ? ParseArgs(argText, c.Type.Loc).ToEquatable() : EquatableArray<ExprText>.Empty;
            if (c.Key.Text == "_")
            {
                deflt = new CaseModel(null, caseCs, argList);
                continue;
            }
            var key = Parse(c.Key);
            if (key is null) continue;
            // The same key twice (1 and 0x1) would be two labels of one C# case.
            var norm = key.Expr is IntLit il ? il.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : key.Text;
            if (!keys.Add(norm))
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.DuplicateCase, c.Key.Loc, c.Key.Text, a.Id));
                continue;
            }
            cases.Add(new CaseModel(key, caseCs, argList));
        }
        return on is null ? null : new SwitchModel(on, iface, unknown, cases.ToEquatable(), a.Switch.Loc, deflt, wrappers.ToEquatable());
    }

    /// <summary>The kind of a primitive or string case type (u4, s2be, f8, str, strz), or null for a user type.</summary>
    private static FieldKind? CaseValueType(string name)
    {
        if (Primitives.Contains(StripEndian(name)) || StripEndian(name) is "f4" or "f8" || BitType(name) is not null) return FieldKind.Primitive;
        if (name is "str" or "strz") return FieldKind.Str;
        return null;
    }

    private static bool KsyParserTryByte(string text, out byte b)
    {
        b = 0;
        if (!KsyParser.TryInt(text, out var v) || v > 255) return false;
        b = (byte)v;
        return true;
    }

    /// <summary>
    /// Which fields a writer computes: constants (contents, valid: eq), counts
    /// named by a repeat-expr, lengths named by a size, switch discriminators.
    /// </summary>
    private List<FieldModel> Derive(List<FieldModel> fields)
    {
        var result = new List<FieldModel>(fields);
        for (int i = 0; i < result.Count; i++)
        {
            var f = result[i];
            if (f.If is not null) continue;
            if (f.Kind == FieldKind.Primitive && (f.Valid?.Eq is { Expr: IntLit }) && f.Valid.Severity == "error")
            {
                result[i] = f with { Derivation = Derivation.Constant };
                continue;
            }
            if (f.Kind == FieldKind.Bytes && f.Contents.Count > 0)
            {
                result[i] = f with { Derivation = Derivation.Constant };
                continue;
            }
            if (f.Kind != FieldKind.Primitive || f.Repeat != RepeatKind.None) continue;
            for (int j = i + 1; j < result.Count; j++)
            {
                var g = result[j];
                if (g.If is not null) continue;
                if (g.Repeat == RepeatKind.Expr && g.RepeatExpr?.Expr is NameRef rn && rn.Id == f.Id && g.Size is null)
                { result[i] = f with { Derivation = Derivation.Count, DerivedFrom = g.Id }; break; }
                if (g.Repeat == RepeatKind.None && g.Size?.Expr is NameRef sn && sn.Id == f.Id)
                { result[i] = f with { Derivation = Derivation.Size, DerivedFrom = g.Id }; break; }
                // A key two switches read is the model's: deriving it from one could contradict the other.
                if (g.Kind == FieldKind.Switch && g.Repeat == RepeatKind.None && g.Switch?.On.Expr is NameRef wn && wn.Id == f.Id && g.Switch.KeyDerivable
                    && result.Count(x => x.Switch?.On.Expr is NameRef xn && xn.Id == f.Id) == 1)
                { result[i] = f with { Derivation = Derivation.Discriminator, DerivedFrom = g.Id }; break; }
            }
        }
        return result;
    }

    /// <summary>
    /// A field marked -fg-handoff ends a streamed element: what follows it on
    /// the wire is read by someone else (a nested stream), so no field of the
    /// type may come after it unless it is handed off too.
    /// </summary>
    private void CheckHandoffs(IEnumerable<TypeModel> types)
    {
        foreach (var t in types)
        {
            var first = t.Fields.FirstOrDefault(f => f.Handoff);
            if (first is null) continue;
            foreach (var f in t.Fields.SkipWhile(f => f != first).Skip(1).Where(f => !f.Handoff))
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, f.Loc, "Field '" + f.Id + "' follows '" + first.Id
                    + "', which is handed off (-fg-handoff): the octets after it belong to another stream; mark '" + f.Id + "' -fg-handoff too, or move it before"));
                break;
            }
        }
    }

    private StreamModel? BuildStream(List<TypeModel> types, TypeSpec root)
    {
        var marked = types.SelectMany(t => t.Fields.Where(f => f.Stream).Select(f => (t, f))).ToList();
        if (marked.Count == 0) return null;
        if (marked.Count > 1)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, marked[1].f.Loc, "Only one field per grammar can be streamed"));
            return null;
        }
        var (owner, field) = marked[0];
        if (field.Repeat == RepeatKind.None) return null; // reported with the field
        if (field.Kind != FieldKind.User)
        {
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, field.Loc, "The streamed field must be a repeat of a user type"));
            return null;
        }
        var steps = new List<StreamStep>();
        var current = owner;
        var currentField = field;
        while (true)
        {
            if (currentField != current.Fields[current.Fields.Count - 1] || currentField.Size is not null || currentField.SizeEos || currentField.If is not null)
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, currentField.Loc, "A streamed field, and each field that leads to it, must be the last of its type, without size or if"));
                return null;
            }
            steps.Insert(0, new StreamStep(current.CsName, currentField.Id));
            if (current.IsRoot) break;
            var users = types.SelectMany(t => t.Fields.Where(f => f.Kind == FieldKind.User && f.UserType == current.CsName).Select(f => (t, f))).ToList();
            if (users.Count != 1 || users[0].f.Repeat != RepeatKind.None)
            {
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, current.Loc, "The type holding a streamed field must be used by exactly one non-repeated field"));
                return null;
            }
            (current, currentField) = users[0];
        }
        if (field.Repeat != RepeatKind.Until)
            _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, field.Loc, "A streamed field must be 'repeat: until' (its end is known from its last element)"));
        foreach (var step in steps)
        {
            var t = types.First(x => x.CsName == step.TypeCsName);
            if (t.Checks.Count > 0)
                _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, t.Loc, "-fg-checks on '" + t.KsyId + "', which holds the streamed field, cannot be checked while streaming"));
            foreach (var f in t.Fields.TakeWhile(f => f.Id != step.FieldId))
                if (f.Derivation is not (Derivation.None or Derivation.Constant))
                    _diags.Add(DiagInfo.Of(DiagnosticDescriptors.BadStream, f.Loc, "Field '" + f.Id + "' before a streamed field cannot be derived"));
        }
        return new StreamModel(steps.ToEquatable(), field.UserType!);
    }

    private string MemberName(string id, string ownerCs)
    {
        var n = Pascal(id);
        return n == ownerCs || ReservedMembers.Contains(n) ? n + "Value" : n;
    }

    public static string Pascal(string id)
    {
        var sb = new System.Text.StringBuilder();
        bool up = true;
        foreach (var c in id)
        {
            if (c == '_') { up = true; continue; }
            sb.Append(up ? char.ToUpperInvariant(c) : c);
            up = false;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, '_');
        return sb.ToString();
    }
}
