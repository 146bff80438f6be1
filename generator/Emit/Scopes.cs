using System.Collections.Generic;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal sealed partial class Emitter
{
    /// <summary>Marks a Typed whose members are the exported out-locals of a repeated element.</summary>
    private const string ExportsMarker = "@exports:";

    /// <summary>Names while a generated reader (ReadCore) runs: locals for what has been read.</summary>
    private sealed class ReaderScope : ILocalScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        private readonly bool _forTypeOnly;
        private readonly HashSet<string> _expanding = new();
        public Dictionary<string, Typed> Locals { get; }
        public Dictionary<string, string> Counters { get; } = new();

        public ReaderScope(Emitter e, TypeModel t, Dictionary<string, Typed> locals, bool forTypeOnly = false)
        {
            _e = e;
            _t = t;
            Locals = locals;
            _forTypeOnly = forTypeOnly;
            foreach (var p in t.Params) Locals[p.Id] = e.PrimTyped(p.Primitive, p.EnumCsName, Names.Param(p.Id));
        }

        public Typed? Name(string id)
        {
            if (Locals.TryGetValue(id, out var v)) return v;
            if (_e.ExpandInstance(_t, id, this, _expanding) is { } inst) return inst;
            if (_forTypeOnly)
            {
                var f = _t.Fields.FirstOrDefault(x => x.Id == id);
                if (f is { Kind: FieldKind.Primitive, Repeat: RepeatKind.None }) return _e.PrimTyped(f.Primitive!, f.EnumCsName, "default");
            }
            return null;
        }

        public Typed? Member(Typed target, string member)
        {
            if (target.Code.StartsWith(ExportsMarker, System.StringComparison.Ordinal))
            {
                var type = _e._types[target.User!];
                var prefix = target.Code.Substring(ExportsMarker.Length);
                var f = type.Fields.FirstOrDefault(x => x.Id == member);
                if (f is { Kind: FieldKind.Primitive }) return _e.PrimTyped(f.Primitive!, f.EnumCsName, prefix + Names.Export(member));
                var inst = type.Instances.FirstOrDefault(x => x.Id == member);
                if (inst is not null)
                {
                    var it = _e.InstanceType(type, inst);
                    return it with { Code = prefix + Names.Export(member) };
                }
                return null;
            }
            return _e.ModelMember(target, member);
        }

        public Typed? Path(string head, IReadOnlyList<string> path)
        {
            if (_forTypeOnly && !(head == "_root" && _t.IsRoot))
                return _e.PathType(head == "_root" ? _e._root : _t, string.Join(".", path), _t.Loc) with { Code = "default" };
            return _e.ResolvePath(_t, head, path, this);
        }

        public Typed? Io(string member) => member switch
        {
            "size" => Typed.Long("((long)" + Names.IoSize + ")"),
            "eos" => Typed.Bool(Names.R + ".IsEof"),
            _ => null,
        };

        public Typed? CountWhere(string arrayId, Expr predicate)
            => Counters.TryGetValue(arrayId + "|" + predicate, out var local) ? Typed.Long("((long)" + local + ")") : null;
    }

    /// <summary>A value instance, expanded in place in the scope that reads it (guarded against cycles).</summary>
    private Typed? ExpandInstance(TypeModel t, string id, IScope scope, HashSet<string> expanding)
    {
        var inst = t.Instances.FirstOrDefault(i => i.Id == id);
        if (inst is null || !expanding.Add(id)) return null;
        try
        {
            var value = _c.Compile(inst.Value.Expr, scope);
            return inst.EnumCsName is null ? value : new Typed("((" + Q(inst.EnumCsName) + ")" + value.Code + ")", TK.Enum, Enum: inst.EnumCsName);
        }
        finally { expanding.Remove(id); }
    }

    /// <summary>_root.a.b / _parent.x: local in the root itself, else a hidden parameter.</summary>
    private Typed? ResolvePath(TypeModel t, string head, IReadOnlyList<string> path, IScope scope)
    {
        if (head == "_root" && t.IsRoot) return _c.Compile(ToExpr(path), scope);
        var joined = string.Join(".", path);
        var hidden = HiddenOf(t.CsName).FirstOrDefault(h => h.Path == joined && h.Root == (head == "_root"));
        return hidden.Path is null ? null : HiddenTyped(this, t, hidden.Path, hidden.Root);
    }

    internal static Expr ToExpr(IReadOnlyList<string> path)
    {
        Expr e = new NameRef(path[0]);
        for (int i = 1; i < path.Count; i++) e = new MemberRef(e, path[i]);
        return e;
    }

    private static Typed HiddenTyped(Emitter e, TypeModel t, string path, bool root)
    {
        var parent = root ? e._root : e._g.Types.FirstOrDefault(p => e.ChildrenOf(p).Contains(t.CsName)) ?? e._root;
        var typed = e.PathType(parent, path, t.Loc);
        var name = Names.Hidden((root ? "root." : "parent.") + path);
        return typed.Kind switch
        {
            TK.Int when !typed.U64 => Typed.Long(name),
            _ => typed with { Code = name },
        };
    }

    /// <summary>x.m where x is a built model: its property.</summary>
    private Typed? ModelMember(Typed target, string member)
    {
        if (target.Kind != TK.User) return null;
        var type = _types[target.User!];
        var f = type.Fields.FirstOrDefault(x => x.Id == member);
        if (f is { Kind: FieldKind.Primitive, Repeat: RepeatKind.None, If: null }) return PrimTyped(f.Primitive!, f.EnumCsName, target.Code + "." + f.CsName);
        if (f is { Kind: FieldKind.User, Repeat: RepeatKind.None, If: null }) return new Typed(target.Code + "." + f.CsName, TK.User, User: f.UserType);
        if (f is { Kind: FieldKind.Bytes, Repeat: RepeatKind.None, If: null }) return new Typed("", TK.Bytes, Size: target.Code + "." + f.CsName + ".Length");
        if (f is { Repeat: not RepeatKind.None }) return new Typed("", TK.Array, Size: "(" + target.Code + "." + f.CsName + "?.Count ?? 0)");
        var inst = type.Instances.FirstOrDefault(x => x.Id == member);
        if (inst is not null)
        {
            var it = InstanceType(type, inst);
            return it.Kind == TK.Int && !it.U64 ? Typed.Long("((long)" + target.Code + "." + inst.CsName + ")") : it with { Code = target.Code + "." + inst.CsName };
        }
        return null;
    }

    /// <summary>Names inside a model (computed properties): its own properties only.</summary>
    private sealed class ModelScope : IScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        private readonly HashSet<string> _expanding = new();

        public ModelScope(Emitter e, TypeModel t) { _e = e; _t = t; }

        public Typed? Name(string id)
        {
            var f = _t.Fields.FirstOrDefault(x => x.Id == id);
            if (f is { Kind: FieldKind.Primitive, Repeat: RepeatKind.None, If: null } && f.Derivation != Derivation.Constant)
                return _e.PrimTyped(f.Primitive!, f.EnumCsName, f.CsName);
            if (f is { Kind: FieldKind.User, Repeat: RepeatKind.None, If: null }) return new Typed(f.CsName, TK.User, User: f.UserType);
            if (f is { Kind: FieldKind.Bytes, Repeat: RepeatKind.None, If: null, Derivation: Derivation.None }) return new Typed("", TK.Bytes, Size: f.CsName + ".Length");
            if (f is { Repeat: not RepeatKind.None, Derivation: Derivation.None }) return new Typed("", TK.Array, Size: "(" + f.CsName + "?.Count ?? 0)");
            return _e.ExpandInstance(_t, id, this, _expanding);
        }

        public Typed? Member(Typed target, string member) => _e.ModelMember(target, member);
        public Typed? Path(string head, IReadOnlyList<string> path) => null;
        public Typed? Io(string member) => null;
        public Typed? CountWhere(string arrayId, Expr predicate) => null;
    }

    /// <summary>Names while a generated writer (WriteCore) runs: locals for what has been written, the model otherwise.</summary>
    private sealed class WriterScope : ILocalScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        private readonly HashSet<string> _expanding = new();
        public Dictionary<string, Typed> Locals { get; } = new();

        public WriterScope(Emitter e, TypeModel t)
        {
            _e = e;
            _t = t;
            foreach (var p in t.Params) Locals[p.Id] = e.PrimTyped(p.Primitive, p.EnumCsName, Names.Param(p.Id));
        }

        public Typed? Name(string id)
        {
            if (Locals.TryGetValue(id, out var v)) return v;
            var f = _t.Fields.FirstOrDefault(x => x.Id == id);
            if (f is { Kind: FieldKind.User, Repeat: RepeatKind.None, If: null }) return new Typed("this." + f.CsName, TK.User, User: f.UserType);
            if (f is { Kind: FieldKind.Bytes, Repeat: RepeatKind.None, If: null, Derivation: Derivation.None }) return new Typed("", TK.Bytes, Size: "this." + f.CsName + ".Length");
            if (f is { Repeat: not RepeatKind.None, Derivation: Derivation.None }) return new Typed("", TK.Array, Size: "(this." + f.CsName + "?.Count ?? 0)");
            return _e.ExpandInstance(_t, id, this, _expanding);
        }

        public Typed? Member(Typed target, string member) => _e.ModelMember(target, member);

        public Typed? Path(string head, IReadOnlyList<string> path) => _e.ResolvePath(_t, head, path, this);

        public Typed? Io(string member) => null;
        public Typed? CountWhere(string arrayId, Expr predicate) => null;
    }
}
