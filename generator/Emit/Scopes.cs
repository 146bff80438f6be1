using System;
using System.Collections.Generic;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal sealed partial class Emitter
{
    /// <summary>Marks a Typed whose members are the exported out-locals of a repeated element.</summary>
    private const string ExportsMarker = "@exports:";

    private static InvalidOperationException Bug(string what) => new("FormatGen emitter: " + what + " has no value here (a checker bug)");

    /// <summary>Names while a generated reader (ReadCore) runs: locals for what has been read.</summary>
    private sealed class ReaderScope : ILocalScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        public Dictionary<string, Typed> Locals { get; }
        public Dictionary<string, string> Counters { get; } = new();

        public ReaderScope(Emitter e, TypeModel t, Dictionary<string, Typed> locals)
        {
            _e = e;
            _t = t;
            Locals = locals;
            foreach (var p in t.Params) Locals[p.Id] = e.ParamTyped(p, Names.Param(p.Id));
        }

        public Typed Name(TRef r)
        {
            var key = r.Kind switch { RefKind.Index => "_index", RefKind.Element or RefKind.Value => "_", _ => r.Id };
            if (Locals.TryGetValue(key, out var v)) return v;
            if (r.Kind == RefKind.Instance) return _e.ExpandInstance(_t, r.Id, this);
            throw Bug("'" + r.Id + "' in reader of " + _t.KsyId);
        }

        public Typed Member(Typed target, TMember m)
        {
            if (target.Code.StartsWith(ExportsMarker, StringComparison.Ordinal))
            {
                var type = _e._types[target.User!];
                var prefix = target.Code.Substring(ExportsMarker.Length);
                var f = type.Fields.FirstOrDefault(x => x.Id == m.Id);
                if (f is { Kind: FieldKind.Primitive }) return _e.PrimTyped(f.Primitive!, f.EnumCsName, prefix + Names.Export(m.Id));
                return _e.TypedOf(m.Type, prefix + Names.Export(m.Id));
            }
            return _e.ModelMember(target, m);
        }

        public Typed Path(TPath p) => _e.HiddenTyped(p.Root, p.Path, p.Type);

        public Typed Late(TLate l) => throw Bug("'" + l.Shown + "' (read later) in reader of " + _t.KsyId);

        // The box this reader fills with the model it builds (null when it builds none).
        public Typed Box(TBox b) => new(BoxLocal, TK.User, User: b.OwnerCs);

        public Typed Io(RefKind kind) => kind switch
        {
            RefKind.IoSize => Typed.Long("((long)" + Names.IoSize + ")"),
            RefKind.IoEos => Typed.Bool(Names.R + ".IsEof"),
            RefKind.IoValue => new Typed("new " + Names.Io + "(" + Names.R + ".IoMemory, " + Names.R + ".IoOffset)", TK.Io),
            RefKind.RootIoValue => new Typed("new " + Names.Io + "(" + Names.R + ".RootMemory, " + Names.R + ".RootOffset)", TK.Io),
            RefKind.RootIoSize => Typed.Long("((long)" + Names.R + ".RootSpan.Length)"),
            _ => Typed.Long("((long)" + Names.R + ".IoPos)"),
        };

        public Typed CountWhere(TCount c)
            => Counters.TryGetValue(CounterKey(c), out var local) ? Typed.Long("((long)" + local + ")") : throw Bug("a count over " + c.Field);
    }

    private static string CounterKey(TCount c) => c.Field + "|" + c.Predicate;

    /// <summary>A value instance, expanded in place in the scope that reads it.</summary>
    private Typed ExpandInstance(TypeModel t, string id, IScope scope)
    {
        if (t.ParseInstances.FirstOrDefault(i => i.Id == id) is { } pi)
        {
            // A reader reads it where it is asked for; a model (or a writer) asks its property, which keeps it.
            var type = ParseInstanceType(pi);
            if (scope is ReaderScope) return TypedOf(type, ParseInstanceCall(t, pi, scope) + NotNull(pi));
            return TypedOf(type, (scope is ModelScope ms ? ms.Self : "this.") + pi.CsName + NotNull(pi));
        }
        var inst = t.Instances.First(i => i.Id == id);
        var value = _c.Compile(inst.Value.T, scope);
        // Absent (its condition false): an error where an expression reads it, as in Kaitai's runtimes.
        if (inst.If is not null)
            value = value with { Code = "((" + _c.Compile(inst.If.T, scope).Code + ") ? " + value.Code + " : throw " + Names.Eval + ".Absent(" + ExprCompiler.StrLit(inst.Id) + "))", Size = null };
        return inst.EnumCsName is null ? value : new Typed("((" + Q(inst.EnumCsName) + ")" + value.Code + ")", TK.Enum, Enum: inst.EnumCsName);
    }

    /// <summary>The type of a parse instance's value in expressions.</summary>
    private static ExprType ParseInstanceType(ParseInstanceModel pi)
    {
        var f = pi.Field;
        ExprType one = f.Kind switch
        {
            FieldKind.Primitive when f.EnumCsName is not null => ExprType.Enum(f.EnumCsName),
            FieldKind.Primitive when f.Primitive is "b1" => ExprType.Bool,
            FieldKind.Primitive when Names.IsFloat(f.Primitive!) => ExprType.Float,
            FieldKind.Primitive => f.Primitive is "u8" or "b64" ? ExprType.ULong : ExprType.Long,
            FieldKind.Bytes => ExprType.Bytes,
            FieldKind.Str => ExprType.Str,
            FieldKind.User => ExprType.User(f.UserType!),
            _ => new ExprType(TKind.User, Name: f.Switch!.InterfaceName, Union: true),
        };
        return f.Repeat == RepeatKind.None ? one : ExprType.ArrayOf(one);
    }

    /// <summary>An instance with 'if' read in an expression: its value, or the type's default when it is absent (as Kaitai's null would fail).</summary>
    private string NotNull(ParseInstanceModel pi)
        => pi.Field.If is null ? "" : OptionalStruct(pi.Field) ? ".GetValueOrDefault()" : "!";

    /// <summary>Whether a field with 'if' is a nullable struct in C# (an integer, a byte array, a struct model): read as its default when absent.</summary>
    private bool OptionalStruct(FieldModel f)
        => f.If is not null && f.Repeat == RepeatKind.None
           && (f.Kind is FieldKind.Primitive or FieldKind.Bytes || f.Kind == FieldKind.User && IsStruct(_types[f.UserType!]));

    /// <summary>The stream a model kept (KeepsIo), as a value.</summary>
    private static Typed KeptIo(string model) => new("new " + Names.Io + "(" + model + Names.Captured("__io") + ", " + model + Names.Captured("__ioOffset") + ")", TK.Io);

    /// <summary>A hidden argument: a value of _root or _parent passed down to the type.</summary>
    private Typed HiddenTyped(bool root, string path, ExprType type)
    {
        var name = Names.Hidden((root ? "root." : "parent.") + path);
        return type.Kind == TKind.Int && !type.U64 ? Typed.Long(name) : TypedOf(type, name);   // a hidden integer is a long already
    }

    /// <summary>C# code of a given checked type as a Typed (integers widen to long unless u8).</summary>
    private Typed TypedOf(ExprType type, string code) => type.Kind switch
    {
        TKind.Bool => Typed.Bool(code),
        TKind.Enum => new Typed(code, TK.Enum, Enum: type.Name),
        TKind.Int when type.U64 => Typed.ULong(code),
        TKind.Int => Typed.Long("((long)" + code + ")"),
        TKind.User => new Typed(code, TK.User, User: type.Name),
        TKind.Bytes => new Typed(code + ".Span", TK.Bytes, Size: code + ".Length"),
        TKind.Array => new Typed(code, TK.Array, Size: "(" + code + "?.Count ?? 0)"),
        TKind.Str => new Typed(code, TK.Str),
        TKind.Float => new Typed("((double)" + code + ")", TK.Float),
        TKind.Io => new Typed(code, TK.Io),
        TKind.Box => new Typed(code, TK.User, User: type.Name),
        _ => throw Bug("a value of " + type.Describe()),
    };

    /// <summary>A field of a built model as a value: its property (a switch of integers or strings: what its case holds).</summary>
    private Typed FieldValue(FieldModel f, ExprType type, string access)
    {
        if (f is { Kind: FieldKind.Switch, Repeat: RepeatKind.None } && f.Switch!.ValueKind is { } vk)
            return vk == "str" ? new Typed(Names.Eval + ".CaseString(" + access + ")", TK.Str)
                : vk == "uint" ? Typed.ULong("unchecked((ulong)" + Names.Eval + ".CaseLong(" + access + "))")
                : Typed.Long(Names.Eval + ".CaseLong(" + access + ")");
        // A value that may be absent ('if') as a nullable struct: absent reads as its default.
        if (OptionalStruct(f)) access += ".GetValueOrDefault()";
        return TypedOf(type, access);
    }

    /// <summary>A parameter as a value in expressions.</summary>
    private Typed ParamTyped(ParamModel p, string code) => p.Type is null ? PrimTyped(p.Primitive, p.EnumCsName, code) : TypedOf(p.Type, code);

    /// <summary>x.m where x is a built model: its property.</summary>
    private Typed ModelMember(Typed target, TMember m)
    {
        var type = _types[target.User!];
        // The stream the value was read from, which its model keeps.
        if (m.Id == "_io" && !m.Instance) return KeptIo(target.Code + ".");
        if (m.Instance)
        {
            if (type.ParseInstances.FirstOrDefault(x => x.Id == m.Id) is { } pi) return TypedOf(m.Type, target.Code + "." + pi.CsName + NotNull(pi));
            var inst = type.Instances.First(x => x.Id == m.Id);
            // Absent (its condition false): an error where an expression reads it, as in Kaitai's runtimes.
            var access = target.Code + "." + inst.CsName;
            if (inst.If is not null) access = "(" + access + " ?? throw " + Names.Eval + ".Absent(" + ExprCompiler.StrLit(inst.Id) + "))";
            return TypedOf(m.Type, access);
        }
        var f = type.Fields.First(x => x.Id == m.Id);
        if (f is { Kind: FieldKind.Primitive, Repeat: RepeatKind.None }) return PrimTyped(f.Primitive!, f.EnumCsName, target.Code + "." + f.CsName + (f.If is not null ? ".GetValueOrDefault()" : ""));
        return FieldValue(f, m.Type, target.Code + "." + f.CsName);
    }

    /// <summary>Names inside a model (computed properties): its own properties, and what the reader captured for it.</summary>
    private sealed class ModelScope : IScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        private readonly string? _index;
        private readonly string _self;

        /// <param name="index">The code of _index, for an input of a repeated parse instance computed per element.</param>
        /// <param name="self">The model whose members these are: this one, or (for a value read later) the owner's, boxed.</param>
        public ModelScope(Emitter e, TypeModel t, string? index = null, string? self = null) { _e = e; _t = t; _index = index; _self = self ?? ""; }

        /// <summary>The prefix of the model's members: "this." for this model.</summary>
        public string Self => _self.Length == 0 ? "this." : _self;

        public Typed Name(TRef r)
        {
            switch (r.Kind)
            {
                case RefKind.Index when _index is not null:
                    return Typed.Long(_index);
                case RefKind.Param:
                {
                    var p = _t.Params.First(x => x.Id == r.Id);
                    return _e.ParamTyped(p, _self + Names.Captured(Names.Param(p.Id)));
                }
                case RefKind.Instance:
                    return _e.ExpandInstance(_t, r.Id, this);
                case RefKind.Field:
                {
                    var f = _t.Fields.First(x => x.Id == r.Id);
                    if (f is { Kind: FieldKind.Primitive, Repeat: RepeatKind.None })
                        return f.Derivation == Derivation.Constant
                            ? _e.TypedOf(r.Type, "(" + _e.FieldCsType(f) + ")" + _e._c.Compile(f.Valid!.Eq!.T, this).Code)
                            : _e.PrimTyped(f.Primitive!, f.EnumCsName, _self + f.CsName + (f.If is not null ? ".GetValueOrDefault()" : ""));
                    return _e.FieldValue(f, r.Type, _self + f.CsName);
                }
            }
            throw Bug("'" + r.Id + "' in a model of " + _t.KsyId);
        }

        public Typed Member(Typed target, TMember m) => _e.ModelMember(target, m);
        public Typed Path(TPath p) => _e.TypedOf(p.Type, _self + Names.Captured(Names.Hidden((p.Root ? "root." : "parent.") + p.Path)));
        public Typed Io(RefKind kind) => kind switch
        {
            RefKind.IoSize => Typed.Long("((long)" + _self + Names.Captured(Names.IoSize) + ")"),
            RefKind.IoPos => Typed.Long(_self + Names.Captured("__ioPosEnd")),
            RefKind.IoEos => Typed.Bool(_self + Names.Captured("__ioEosEnd")),
            RefKind.RootIoSize => Typed.Long(_self + Names.Captured("__rootSize")),
            // The model's own stream, which it keeps (KeepsIo).
            RefKind.IoValue => KeptIo(_self),
            _ => throw Bug("_io in a model"),
        };
        public Typed CountWhere(TCount c) => throw Bug("a count in a model");

        // The owner's model, from the box the reader was given; its value, in the owner's terms.
        public Typed Late(TLate l)
        {
            var owner = _e.Q(l.OwnerCs);
            var box = _self + Names.Captured(Names.Hidden(l.Root ? "root." : "parent."));
            var model = Names.Box + "<" + owner + ">.Get(" + box + ", " + ExprCompiler.StrLit(l.Shown) + ")";
            var v = _e._c.Compile(l.Value, new ModelScope(_e, _e._types[l.OwnerCs], self: "(" + model + ")."));
            return v;
        }

        public Typed Box(TBox b) => new(Names.Box + "<" + _e.Q(b.OwnerCs) + ">.Of(" + (_self.Length == 0 ? "this" : _self.TrimEnd('.')) + ")", TK.User, User: b.OwnerCs);
    }

    /// <summary>Names while a generated writer (WriteCore) runs: locals for what has been written, the model otherwise.</summary>
    private sealed class WriterScope : ILocalScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        public Dictionary<string, Typed> Locals { get; } = new();

        public WriterScope(Emitter e, TypeModel t)
        {
            _e = e;
            _t = t;
            foreach (var p in t.Params) Locals[p.Id] = e.ParamTyped(p, Names.Param(p.Id));
        }

        public Typed Name(TRef r)
        {
            var key = r.Kind switch { RefKind.Index => "_index", RefKind.Element or RefKind.Value => "_", _ => r.Id };
            if (Locals.TryGetValue(key, out var v)) return v;
            if (r.Kind == RefKind.Instance) return _e.ExpandInstance(_t, r.Id, this);
            if (r.Kind == RefKind.Field)
            {
                var f = _t.Fields.First(x => x.Id == r.Id);
                return _e.FieldValue(f, r.Type, "this." + f.CsName);
            }
            throw Bug("'" + r.Id + "' in writer of " + _t.KsyId);
        }

        public Typed Member(Typed target, TMember m) => _e.ModelMember(target, m);

        public Typed Path(TPath p) => _e.HiddenTyped(p.Root, p.Path, p.Type);

        public Typed Late(TLate l) => throw Bug("'" + l.Shown + "' (read later) in a writer");

        // A child's writer has no use for the box (only instances read it).
        public Typed Box(TBox b) => new("null!", TK.User, User: b.OwnerCs);

        // A stream passed to a child being written: the child reads from it only in parse instances, which are not written.
        public Typed Io(RefKind kind) => kind switch
        {
            RefKind.IoValue or RefKind.RootIoValue => new Typed("default(" + Names.Io + ")", TK.Io),
            // Where the writer is in its output (an argument such as type: t(_io.pos)); a sized field is no substream to it.
            RefKind.IoPos => Typed.Long("((long)" + Names.W + ".Position)"),
            _ => throw Bug("_io in a writer"),
        };
        public Typed CountWhere(TCount c) => throw Bug("a count in a writer");
    }
}
