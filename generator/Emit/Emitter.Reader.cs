using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal sealed partial class Emitter
{
    private string ReturnType(TypeModel t) => IsStruct(t) ? Q(t.CsName) : Q(t.CsName) + "?";

    /// <summary>The C# type of a value passed down from _root or _parent (an integer is a long).</summary>
    private string HiddenCsType(HiddenModel h) => ValueCsType(h.Type);

    /// <summary>The C# type that holds a value of a checked type (integers as long, lists as read-only lists).</summary>
    private string ValueCsType(ExprType t) => t.Kind switch
    {
        TKind.Array => Names.List + "<" + ValueCsType(t.Element!) + ">",
        TKind.Io => Names.Io,
        TKind.Box => Names.Box + "<" + Q(t.Name!) + ">",
        _ => CsTypeOf(TypedOf(t, "")),
    };

    /// <summary>Whether the grammar reads _root._io (a parse instance's io, _root._io.size): its root then marks where it starts.</summary>
    private bool UsesRootIo()
        => _g.Types.Where(t => !t.External).Any(t => t.ParseInstances.Any(p => p.RootIo)
            || ExprsOf(t).Any(e => { bool uses = false; Walk(e, x => uses |= x is TRef { Kind: RefKind.RootIoSize or RefKind.RootIoValue }); return uses; }));

    /// <summary>The local holding the box of the model a reader builds.</summary>
    private const string BoxLocal = "__box";

    private static string HiddenName(HiddenModel h) => Names.Hidden((h.Root ? "root." : "parent.") + h.Path);

    private string ReadSignature(TypeModel t)
    {
        var ps = new List<string> { "ref " + Names.Reader + " " + Names.R, Names.Validation + "? " + Names.V, "bool " + Names.Build };
        foreach (var p in t.Params) ps.Add(ParamCsType(p) + " " + Names.Param(p.Id));
        foreach (var h in HiddenOf(t.CsName)) ps.Add(HiddenCsType(h) + " " + HiddenName(h));
        foreach (var x in t.Exports) ps.Add("out " + ExportCsType(t, x) + " " + Names.Export(x));
        return string.Join(", ", ps);
    }

    private string ExportCsType(TypeModel t, string member)
    {
        var f = t.Fields.FirstOrDefault(x => x.Id == member);
        if (f is { Kind: FieldKind.Primitive }) return f.EnumCsName is not null ? Q(f.EnumCsName) : Names.CsPrimitive(f.Primitive!);
        var inst = t.Instances.First(x => x.Id == member);
        return inst.EnumCsName is not null ? Q(inst.EnumCsName) : CsTypeOf(TypedOf(inst.Value.T.Type, ""));
    }

    /// <summary>Arguments for a call from <paramref name="caller"/> to a child's ReadCore or WriteCore.</summary>
    private List<string> CallArgs(TypeModel caller, IScope scope, string childCs, EquatableArray<ExprText> args)
    {
        var child = _types[childCs];
        var result = new List<string>();
        for (int i = 0; i < child.Params.Count; i++)
        {
            var p = child.Params[i];
            var type = ParamCsType(p);
            if (i >= args.Count) { result.Add("default"); continue; }
            result.Add(ArgFor(p, _c.Compile(args[i].T, scope)));
        }
        foreach (var h in HiddenOf(childCs))
        {
            // A _root value a type in between has itself: passed on. Otherwise the caller computes it.
            if (h.Root && !caller.IsRoot) { result.Add(HiddenName(h)); continue; }
            var provided = caller.Provides.First(p => p.Root == h.Root && p.Path == h.Path);
            var v = _c.Compile(provided.Value, scope);
            result.Add(h.Type.Kind switch
            {
                TKind.Bytes => "(" + Names.ReadOnlyMemory + ")(" + v.Code + ").ToArray()",
                TKind.Array => Names.Eval + ".ListOf<" + ValueCsType(h.Type.Element!) + ">(" + v.Code + ")",
                TKind.User or TKind.Str or TKind.Box => v.Code,
                _ => "unchecked((" + HiddenCsType(h) + ")" + v.Code + ")",
            });
        }
        return result;
    }

    /// <summary>A value given to a parameter, as the parameter's C# type.</summary>
    private string ArgFor(ParamModel p, Typed a) => p.Type?.Kind switch
    {
        TKind.Bytes => "(" + Names.ReadOnlyMemory + ")(" + a.Code + ").ToArray()",
        TKind.Array => Names.Eval + ".ListOf<" + ParamCsType(p.Type.Element!, p.Primitive) + ">(" + a.Code + ")",
        TKind.Float => "(" + ParamCsType(p) + ")" + a.Code,
        TKind.Str or TKind.Io or TKind.User => a.Code,
        _ => "unchecked((" + ParamCsType(p) + ")" + a.Code + ")",
    };

    /// <summary>A reference to a name of a type, for messages that show the values a rule reads.</summary>
    private static TRef? RefFor(TypeModel t, string id)
    {
        if (t.Params.FirstOrDefault(p => p.Id == id) is { } p)
            return new TRef(RefKind.Param, id, p.ValueType);
        if (t.Fields.FirstOrDefault(f => f.Id == id) is { } f)
        {
            var value = f.Kind switch
            {
                FieldKind.Primitive when f.EnumCsName is not null => ExprType.Enum(f.EnumCsName),
                FieldKind.Primitive => f.Primitive == "u8" ? ExprType.ULong : ExprType.Long,
                FieldKind.Bytes => ExprType.Bytes,
                FieldKind.Str => ExprType.Str,
                FieldKind.User => ExprType.User(f.UserType!),
                _ => new ExprType(TKind.User, Name: f.Switch!.InterfaceName, Union: true),
            };
            return new TRef(RefKind.Field, id, f.Repeat == RepeatKind.None ? value : ExprType.ArrayOf(value));
        }
        if (t.Instances.FirstOrDefault(i => i.Id == id) is { Value.Checked: { } v } inst)
            return new TRef(RefKind.Instance, id, inst.EnumCsName is not null ? ExprType.Enum(inst.EnumCsName) : v.Type);
        return null;
    }

    private static HashSet<string> NamesIn(Expr e)
    {
        var set = new HashSet<string>();
        TypeChecker.Walk(e, x =>
        {
            if (x is NameRef n && n.Id is not ("_io" or "_root" or "_parent" or "_" or "_index")) set.Add(n.Id);
        });
        return set;
    }

    /// <summary>A check that reads only parameters, _io and hidden values runs before any field.</summary>
    private bool IsEntryCheck(TypeModel t, CheckModel c)
    {
        var names = NamesIn(c.Expr.Expr);
        return names.All(n => t.Params.Any(p => p.Id == n));
    }

    private void EmitReadCore(SourceWriter w, TypeModel t)
    {
        var scope = new ReaderScope(this, t, new Dictionary<string, Typed>());
        var args = new List<string> { "ref " + Names.R, Names.V, Names.Build };
        foreach (var p in t.Params) args.Add(Names.Param(p.Id));
        foreach (var h in HiddenOf(t.CsName)) args.Add(HiddenName(h));
        foreach (var x in t.Exports) args.Add("out " + Names.Export(x));
        string Call(string method, string v) => method + "(" + string.Join(", ", args.Select(a => a == Names.V ? v : a)) + ")";
        w.Line();
        w.Doc("Generated reader of '" + t.KsyId + "'. For generated code only.");
        w.Line(Names.NeverBrowsable);
        var method = "internal static " + ReturnType(t) + " ReadCore(" + ReadSignature(t) + ")";
        // The method being emitted calls the next one between 'enter' and 'leave', whatever happens.
        void Around(string next, string enter, string leave)
        {
            w.Open(method);
            w.Line(enter);
            w.Line("try { return " + Call(next, Names.V) + "; }");
            w.Line("finally { " + leave + " }");
            w.Close();
            w.Line();
            method = "private static " + ReturnType(t) + " " + next + "(" + ReadSignature(t) + ")";
        }
        // The root's stream is _root._io, also when another grammar reads this root inside its own.
        if (t.IsRoot && UsesRootIo()) Around("__ReadRoot", "var __rootMark = " + Names.R + ".EnterRoot();", Names.R + ".LeaveRoot(__rootMark);");
        // A type that contains itself: its input says how deep it nests, the reader counts.
        if (t.Nests) Around("__ReadLevel", Names.R + ".Nest(" + Lit(t.KsyId) + ");", Names.R + ".Unnest();");
        var entry = t.Checks.Where(c => IsEntryCheck(t, c)).ToList();
        var exit = t.Checks.Where(c => !IsEntryCheck(t, c)).ToList();
        bool rejects = entry.Any(c => c.Severity == "error");
        if (rejects)
        {
            // A type whose own size rule fails is still parsed, as Kaitai parses it, with
            // nothing more reported (the rule said what is wrong); only if its octets cannot
            // be parsed as the type are they kept whole, by the switch above, as its unknown case.
            // The fields are read by a method of their own, so the usual path has no exception handler.
            w.Open(method);
            w.Line("long __off = " + Names.R + ".Offset;");
            w.Line("int " + Names.IoSize + " = " + Names.R + ".IoSize;");
            w.Line("bool __rejected = false;");
            foreach (var c in entry) EmitCheck(w, t, scope, c, reject: c.Severity == "error");
            w.Open("if (__rejected && " + Names.R + ".InSubstream)");
            w.Line("var __atEntry = " + Names.R + ";");
            w.Line("try { return " + Call("__ReadFields", "null") + "; }");
            w.Open("catch (" + Names.Exception + ")");
            w.Line(Names.R + " = __atEntry;");
            w.Line(Names.R + ".Skip(" + Names.R + ".Remaining, \"\");");
            foreach (var x in t.Exports) w.Line(Names.Export(x) + " = default;");
            w.Line("return default;");
            w.Close();
            w.Close();
            w.Line("return " + Call("__ReadFields", Names.V) + ";");
            w.Close();
            w.Line();
            method = "private static " + ReturnType(t) + " __ReadFields(" + ReadSignature(t) + ")";
            scope = new ReaderScope(this, t, new Dictionary<string, Typed>());
        }
        w.Open(method);
        w.Line("int " + Names.Start + " = " + Names.R + ".Position;");
        w.Line("long __off = " + Names.R + ".Offset;");
        w.Line("int " + Names.IoSize + " = " + Names.R + ".IoSize;");
        w.Line("bool __savedLe = " + Names.R + ".LittleEndian;");
        foreach (var f in t.Fields)
            if (f.Process?.Kind == "zlib" || KeepsRaw(f)) w.Line(Names.ReadOnlyMemory + " __raw_" + f.Id + " = default;");
        EmitEndianSet(w, t, scope, Names.R);
        if (t.ParseInstances.Count > 0) w.Line("bool __typeLe = " + Names.R + ".LittleEndian;");
        // What this type reads that reads it later (instances reading _root or _parent): its model, once built, in a box.
        bool boxes = t.Provides.Any(p => p.Path.Length == 0);
        if (boxes) w.Line("var " + BoxLocal + " = " + Names.Build + " ? new " + Names.Box + "<" + Q(t.CsName) + ">() : null;");
        if (!rejects)
            foreach (var c in entry) EmitCheck(w, t, scope, c, reject: false);
        // Counters for .count(...) in checks, kept while the repeat is read.
        var counters = new List<(string Field, TExpr Pred, string Local)>();
        foreach (var c in exit)
            foreach (var x in new[] { c.Expr }.Concat(c.Expect.Concat(c.Found).Select(p => p.Expr)))
                if (x?.Checked is { } ce)
                    Walk(ce, e =>
                    {
                        if (e is TCount tc && !scope.Counters.ContainsKey(CounterKey(tc)))
                        {
                            var local = Names.Counter(tc.Field, counters.Count);
                            counters.Add((tc.Field, tc.Predicate, local));
                            scope.Counters[CounterKey(tc)] = local;
                        }
                    });
        foreach (var k in counters) w.Line("int " + k.Local + " = 0;");
        foreach (var f in t.Fields) EmitReadField(w, t, scope, f, counters);
        foreach (var c in exit) EmitCheck(w, t, scope, c, reject: false);
        foreach (var x in t.Exports) w.Line(Names.Export(x) + " = " + ExportValue(t, x, scope) + ";");
        w.Line(Names.R + ".LittleEndian = __savedLe;");
        if (IsStruct(t)) w.Line("if (!" + Names.Build + ") return default;");
        else w.Line("if (!" + Names.Build + ") return null;");
        w.Line((boxes ? "var __model = " : "return ") + "new " + Q(t.CsName));
        w.Line("{");
        foreach (var f in t.Fields.Where(IsStored))
            w.Line("    " + f.CsName + " = " + ModelValue(f) + ",");
        foreach (var (name, _, value) in CapturesOf(t))
            w.Line("    " + name + " = " + value + ",");
        w.Line("};");
        if (boxes)
        {
            w.Line(BoxLocal + "!.Value = __model;");
            w.Line("return __model;");
        }
        w.Line("__short:");
        foreach (var x in t.Exports) w.Line(Names.Export(x) + " = default;");
        w.Line(Names.R + ".LittleEndian = __savedLe;");
        w.Line("return default;");
        w.Close();
    }

    private string ExportValue(TypeModel t, string member, ReaderScope scope)
    {
        if (t.Fields.Any(x => x.Id == member)) return Names.Field(member);
        var v = ExpandInstance(t, member, scope);
        return "unchecked((" + ExportCsType(t, member) + ")" + v.Code + ")";
    }

    private static string ModelValue(FieldModel f)
    {
        if (f.If is not null) return "__if_" + f.Id;
        if (f.Repeat != RepeatKind.None) return "__list_" + f.Id + "!";
        if (f.Kind is FieldKind.User or FieldKind.Switch) return Names.Field(f.Id) + "!";
        return Names.Field(f.Id);
    }

    private void EmitEndianSet(SourceWriter w, TypeModel t, IScope scope, string target)
    {
        switch (t.Endian.Kind)
        {
            case EndianKind.BigEndian: w.Line(target + ".LittleEndian = false;"); break;
            case EndianKind.LittleEndian: w.Line(target + ".LittleEndian = true;"); break;
            case EndianKind.Switch:
                var on = _c.Compile(t.Endian.SwitchOn!.T, scope);
                var cond = t.Endian.Cases.Select(c => "(" + Cmp(on, _c.Compile(c.Key.T, scope)) + ") ? " + (c.LittleEndian ? "true" : "false") + " : ");
                w.Line(target + ".LittleEndian = " + string.Concat(cond) + "throw " + Names.Exception + ".Invalid(\"endian\", \"\", "
                       + (target == Names.R ? Names.R + ".Offset" : "0") + ", \"no byte order for \" + " + on.Show() + ");");
                break;
        }
    }

    private static string Cmp(Typed a, Typed b)
    {
        if (a.Kind == TK.Bytes) return Names.MemoryExtensions + ".SequenceEqual(" + a.Code + ", " + b.Code + ")";
        if (a.Kind == TK.Int && b.Kind == TK.Int && a.U64 != b.U64)
            return (a.U64 ? a.Code : "unchecked((ulong)" + a.Code + ")") + " == " + (b.U64 ? b.Code : "unchecked((ulong)" + b.Code + ")");
        return a.Code + " == " + b.Code;
    }

    private void EmitCheck(SourceWriter w, TypeModel t, ReaderScope scope, CheckModel c, bool reject)
    {
        var cond = _c.Compile(c.Expr.T, scope);
        string actualCode;
        if (c.Found.Count > 0) actualCode = TemplateCode(c.Found, scope);
        else
        {
            // Not worded by the grammar: the values the rule reads.
            var actual = new List<string>();
            if (c.Expr.Text.Contains("_io.size")) actual.Add("\"size=\" + " + Names.Text + ".Dec(" + Names.IoSize + ")");
            foreach (var n in NamesIn(c.Expr.Expr))
                if (RefFor(t, n) is { } r && (r.Kind != RefKind.Instance || r.Type.Kind is TKind.Int or TKind.Bool or TKind.Enum))
                    actual.Add(Lit(n + "=") + " + " + _c.Compile(r, scope).Show());
            Walk(c.Expr.T, e =>
            {
                if (e is TCount tc) actual.Add(Lit(tc.Field + ".count(...)=") + " + " + _c.Compile(tc, scope).Show());
            });
            actualCode = actual.Count == 0 ? "\"the rule does not hold\"" : string.Join(" + \", \" + ", actual);
        }
        w.Open("if (!" + cond.Code + ")");
        if (reject) w.Line("__rejected = true;");
        w.Line("if (" + Names.V + " is not null) " + Names.V + ".Report(" + Lit(c.Rule) + ", " + SeverityCode(c.Severity) + ", \"\", -1, __off, "
               + TemplateCode(c.Expect, scope) + ", " + actualCode + ", " + Lit(c.Doc ?? "") + ");");
        w.Close();
    }

    private void EmitValid(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f, Typed value, string index, string offset)
    {
        if (f.Valid is not { } v) return;
        if (f.Repeat == RepeatKind.None) scope.Locals[f.Id] = value; // the rule may name its field
        var conds = new List<string>();
        // The rule and its message may read the value as '_'.
        scope.Locals["_"] = value;
        if (v.Eq is { } eq) conds.Add(Cmp(value, _c.Compile(eq.T, scope)));
        if (v.Min is { } mn) conds.Add(Unified(value, _c.Compile(mn.T, scope), ">="));
        if (v.Max is { } mx) conds.Add(Unified(value, _c.Compile(mx.T, scope), "<="));
        if (v.AnyOf.Count > 0) conds.Add("(" + string.Join(" || ", v.AnyOf.Select(a => "(" + Cmp(value, _c.Compile(a.T, scope)) + ")")) + ")");
        if (v.InEnum) conds.Add(Names.Enum + ".IsDefined(" + value.Code + ")");
        if (v.Expr is { } ex) conds.Add(_c.Compile(ex.T, scope).Code);
        string expected = TemplateCode(v.Expect, scope);
        string found = v.Found.Count > 0 ? TemplateCode(v.Found, scope) : value.Show();
        scope.Locals.Remove("_");
        if (conds.Count == 0) return;
        w.Line("if (" + Names.V + " is not null && !(" + string.Join(" && ", conds.Select(x => "(" + x + ")")) + ")) "
               + Names.V + ".Report(" + Lit(v.Rule) + ", " + SeverityCode(v.Severity) + ", " + Lit(f.Id) + ", " + index + ", " + offset + ", "
               + expected + ", " + found + ", " + Lit(FirstSentence(v.Doc)) + ");");
    }

    private static string FirstSentence(string? doc) => doc is null ? "" : doc.Split('\n')[0].Trim();

    private static string Unified(Typed a, Typed b, string op)
    {
        if (a.Kind == TK.Bytes) return Names.MemoryExtensions + ".SequenceCompareTo(" + a.Code + ", " + b.Code + ") " + op + " 0";
        if (a.Kind == TK.Str) return "string.CompareOrdinal(" + a.Code + ", " + b.Code + ") " + op + " 0";
        if (a.Kind == TK.Int && b.Kind == TK.Int && a.U64 != b.U64)
            return (a.U64 ? a.Code : "unchecked((ulong)" + a.Code + ")") + " " + op + " " + (b.U64 ? b.Code : "unchecked((ulong)" + b.Code + ")");
        return a.Code + " " + op + " " + b.Code;
    }

    /// <summary>C# of a checked expression in a scope.</summary>
    private string Code(ExprText e, IScope scope) => _c.Compile(e.T, scope).Code;

    /// <summary>A size or count as a long (one read from a u8 too: a value past long's range is then negative, and refused as a size).</summary>
    private string LongCode(ExprText e, IScope scope)
    {
        var t = _c.Compile(e.T, scope);
        return t.U64 ? "unchecked((long)" + t.Code + ")" : t.Code;
    }

    private void EmitReadField(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f, List<(string Field, TExpr Pred, string Local)> counters)
    {
        var R = Names.R;
        var id = Lit(f.Id);
        if (f.If is not null)
        {
            var outer = "__if_" + f.Id;
            w.Line(FieldCsType(f) + "? " + outer + " = null;");
            w.Open("if (" + Code(f.If, scope) + ")");
            if (f.Handoff)
            {
                // Streaming: the element ends here, and another reader takes the octets from here on.
                w.Line("if (" + R + ".StopAtHandoff) " + R + ".HandedOff = true;");
                w.Open("else");
            }
            var inner = f with { If = null };
            EmitReadField(w, t, scope, inner, counters);
            w.Line(outer + " = " + (f.Repeat != RepeatKind.None ? "__list_" + f.Id : Names.Field(f.Id)) + ";");
            if (f.Handoff) w.Close();
            w.Close();
            scope.Locals[f.Id] = f.Repeat != RepeatKind.None ? new Typed(outer, TK.Array, Size: "(" + outer + "?.Count ?? 0)") : f.Kind switch
            {
                FieldKind.Primitive => PrimTyped(f.Primitive!, f.EnumCsName, outer + ".GetValueOrDefault()"),
                FieldKind.Bytes => new Typed(outer + ".GetValueOrDefault().Span", TK.Bytes, Size: outer + ".GetValueOrDefault().Length"),
                FieldKind.Str => new Typed("(" + outer + " ?? \"\")", TK.Str),
                FieldKind.Switch => new Typed(outer + "!", TK.User, User: f.Switch!.InterfaceName),
                _ => new Typed(outer + "!", TK.User, User: f.UserType),
            };
            return;
        }
        switch (f.Kind)
        {
            case FieldKind.Primitive when f.Repeat == RepeatKind.None:
            {
                var ct = f.EnumCsName is not null ? Q(f.EnumCsName) : Names.CsPrimitive(f.Primitive!);
                w.Line("var " + Names.Field(f.Id) + " = (" + ct + ")" + Names.ReadCall(f.Primitive!, f.ByteOrder, id, f.EnumCsName is null) + ";");
                w.Line("if (" + R + ".IsShort) goto __short;");
                var value = PrimTyped(f.Primitive!, f.EnumCsName, Names.Field(f.Id));
                EmitValid(w, t, scope, f, value, "-1", R + ".Offset - " + Names.PrimSize(f.Primitive!).ToString(CultureInfo.InvariantCulture));
                scope.Locals[f.Id] = value;
                return;
            }
            case FieldKind.Primitive:
                EmitReadRepeat(w, t, scope, f, counters, ElemCsType(f), (ww, e) =>
                {
                    ww.Line("var " + e + " = (" + ElemCsType(f) + ")" + Names.ReadCall(f.Primitive!, f.ByteOrder, id, f.EnumCsName is null) + ";");
                    ww.Line("if (" + R + ".IsShort) goto __short;");
                    var value = PrimTyped(f.Primitive!, f.EnumCsName, e);
                    EmitValid(ww, t, scope, f, value, "__i", R + ".Offset - " + Names.PrimSize(f.Primitive!).ToString(CultureInfo.InvariantCulture));
                    return value;
                }, Names.IsBits(f.Primitive!) ? -Names.BitWidth(f.Primitive!) : Names.PrimSize(f.Primitive!));
                return;
            case FieldKind.Bytes or FieldKind.Str when f.Repeat == RepeatKind.None:
                EmitReadOctets(w, t, scope, f, "-1");
                return;
            case FieldKind.Bytes or FieldKind.Str:
            {
                var one = f with { Repeat = RepeatKind.None };
                // A terminator that is consumed takes an octet; a size given by an expression may be 0.
                int elemSize = f.Size?.Expr is IntLit il ? (int)System.Math.Min(il.Value, 1 << 20) : f.Size is null && !f.SizeEos && f.Term is { Consume: true } ? 1 : 0;
                EmitReadRepeat(w, t, scope, f, counters, ElemCsType(f), (ww, e) =>
                {
                    EmitReadOctets(ww, t, scope, one, "__i");
                    var elem = scope.Locals[f.Id];
                    ww.Line("var " + e + " = " + Names.Field(f.Id) + ";");
                    return elem;
                }, elemSize);
                return;
            }
            case FieldKind.User when f.Repeat == RepeatKind.None && f.Process is not null:
                EmitReadProcessedUser(w, t, scope, f);
                return;
            case FieldKind.User when f.Repeat == RepeatKind.None:
            {
                var child = _types[f.UserType!];
                bool limited = EmitPushLimit(w, scope, f);
                w.Line(ReturnType(child) + " " + Names.Field(f.Id) + ";");
                w.Line(Names.V + "?.Enter(" + id + ");");
                var build = _modelNeeded.Contains(t.CsName + "." + f.Id) ? "true" : Names.Build;
                var args = CallArgs(t, scope, child.CsName, f.Args);
                args.InsertRange(0, new[] { "ref " + R, Names.V, build });
                foreach (var x in child.Exports) args.Add("out _");
                w.Line("try { " + Names.Field(f.Id) + " = " + Q(child.CsName) + ".ReadCore(" + string.Join(", ", args) + "); }");
                w.Line("catch (" + Names.Exception + " __ex) when (__ex.Through(" + id + ")) { throw; }");
                w.Line(Names.V + "?.Exit();");
                w.Line("if (" + R + ".IsShort) goto __short;");
                EmitRejectedChild(w, child, Names.Field(f.Id), build, id);
                if (limited) EmitKeepSlack(w, child, Names.Field(f.Id), build);
                if (limited) w.Line(R + ".PopLimit(__m_" + f.Id + ");");
                scope.Locals[f.Id] = new Typed(Names.Field(f.Id) + (IsStruct(child) ? "" : "!"), TK.User, User: child.CsName);
                return;
            }
            case FieldKind.User:
            {
                var child = _types[f.UserType!];
                var buildEach = _modelNeeded.Contains(t.CsName + "." + f.Id) ? "true" : Names.Build;
                EmitReadRepeat(w, t, scope, f, counters, Q(child.CsName), (ww, e) =>
                {
                    var args = CallArgs(t, scope, child.CsName, f.Args);
                    args.InsertRange(0, new[] { "ref " + R, Names.V, buildEach });
                    foreach (var x in child.Exports)
                    {
                        ww.Line(ExportCsType(child, x) + " " + e + "_" + Names.Export(x) + ";");
                        args.Add("out " + e + "_" + Names.Export(x));
                    }
                    bool limited = EmitPushLimit(ww, scope, f);
                    ww.Line(Names.V + "?.Enter(" + id + ", __i);");
                    ww.Line(ReturnType(child) + " " + e + ";");
                    ww.Line("try { " + e + " = " + Q(child.CsName) + ".ReadCore(" + string.Join(", ", args) + "); }");
                    ww.Line("catch (" + Names.Exception + " __ex) when (__ex.Through(" + id + ", __i)) { throw; }");
                    ww.Line(Names.V + "?.Exit();");
                    ww.Line("if (" + R + ".IsShort) goto __short;");
                    EmitRejectedChild(ww, child, e, Names.Build, id);
                    if (limited) EmitKeepSlack(ww, child, e, Names.Build);
                    if (limited) ww.Line(R + ".PopLimit(__m_" + f.Id + ");");
                    return new Typed(ExportsMarker + e + "_", TK.User, User: child.CsName);
                }, f.Size?.Expr is IntLit sl ? (int)System.Math.Min(sl.Value, 1 << 20) : f.Size is null && !f.SizeEos ? MinOctets(child) : 0, itemSuffix: IsStruct(child) ? "" : "!");
                return;
            }
            case FieldKind.Switch when f.Repeat == RepeatKind.None:
            {
                bool limited = EmitPushLimit(w, scope, f);
                EmitReadSwitch(w, t, scope, f, Names.Field(f.Id), limited, null);
                if (limited) w.Line(R + ".PopLimit(__m_" + f.Id + ");");
                scope.Locals[f.Id] = f.Switch!.ValueKind switch
                {
                    "str" => new Typed("__sv_" + f.Id, TK.Str),
                    "uint" => Typed.ULong("unchecked((ulong)__sv_" + f.Id + ")"),
                    "int" => Typed.Long("__sv_" + f.Id),
                    _ => new Typed(Names.Field(f.Id) + "!", TK.User, User: f.Switch.InterfaceName),
                };
                return;
            }
            case FieldKind.Switch:
                EmitReadRepeat(w, t, scope, f, counters, Q(f.Switch!.InterfaceName), (ww, e) =>
                {
                    bool limited = EmitPushLimit(ww, scope, f);
                    EmitReadSwitch(ww, t, scope, f, e, limited, "__i");
                    if (limited) ww.Line(R + ".PopLimit(__m_" + f.Id + ");");
                    return new Typed(e + "!", TK.User, User: f.Switch!.InterfaceName);
                }, f.Size?.Expr is IntLit swl ? (int)System.Math.Min(swl.Value, 1 << 20) : 0, itemSuffix: "!");
                return;
        }
    }

    /// <summary>
    /// A user type whose octets are processed (xor, rol, ror, zlib): the octets
    /// of its size are read, processed, and the type is parsed from the result
    /// (offsets in errors count from the field's first octet).
    /// </summary>
    private void EmitReadProcessedUser(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f)
    {
        var R = Names.R;
        var id = Lit(f.Id);
        var child = _types[f.UserType!];
        var start = "__b_" + f.Id;
        var len = Names.Len(f.Id);
        var sub = "__sub_" + f.Id;
        w.Line("int " + start + " = " + R + ".Position;");
        w.Line("long __at_" + f.Id + " = " + R + ".Offset;");
        w.Line("long " + len + " = " + (f.SizeEos ? R + ".Remaining" : LongCode(f.Size!, scope)) + ";");
        if (f.Limit) w.Line(R + ".CheckSizeLimit(" + len + ", " + id + ");");
        w.Line(R + ".ReadSpan(" + len + ", " + id + ");");
        w.Line("if (" + R + ".IsShort) goto __short;");
        var raw = R + ".SpanAt(" + start + ", (int)" + len + ")";
        w.Line("var __pv_" + f.Id + " = " + ProcessCall(f, raw, scope, "__at_" + f.Id) + ";");
        if (f.Process!.Kind == "zlib") w.Line("__raw_" + f.Id + " = " + Names.Build + " ? " + R + ".SliceAt(" + start + ", (int)" + len + ") : default;");
        w.Line("var " + sub + " = new " + Names.Reader + "((" + Names.ReadOnlyMemory + ")__pv_" + f.Id + ", " + R + ".LittleEndian, __at_" + f.Id + ");");
        w.Line(sub + ".PushLimit(__pv_" + f.Id + ".Length, " + id + ");");
        var build = _modelNeeded.Contains(t.CsName + "." + f.Id) ? "true" : Names.Build;
        var args = CallArgs(t, scope, child.CsName, f.Args);
        args.InsertRange(0, new[] { "ref " + sub, Names.V, build });
        foreach (var x in child.Exports) args.Add("out _");
        w.Line(ReturnType(child) + " " + Names.Field(f.Id) + ";");
        w.Line(Names.V + "?.Enter(" + id + ");");
        w.Line("try { " + Names.Field(f.Id) + " = " + Q(child.CsName) + ".ReadCore(" + string.Join(", ", args) + "); }");
        w.Line("catch (" + Names.Exception + " __ex) when (__ex.Through(" + id + ")) { throw; }");
        w.Line(Names.V + "?.Exit();");
        if (child.KeepsSlack)
            w.Line("if (" + build + " && " + sub + ".Remaining > 0" + (IsStruct(child) ? "" : " && " + Names.Field(f.Id) + " is not null") + ") "
                   + Names.Field(f.Id) + " = " + Names.Field(f.Id) + " with { " + Names.Slack + " = " + sub + ".SliceAt(" + sub + ".Position, " + sub + ".Remaining) };");
        EmitRejectedChild(w, child, Names.Field(f.Id), build, id);
        scope.Locals[f.Id] = new Typed(Names.Field(f.Id) + (IsStruct(child) ? "" : "!"), TK.User, User: child.CsName);
    }

    /// <summary>
    /// A switch: the case its key selects (or the default), read into local; a
    /// primitive or string case's value in its record; octets no case reads kept
    /// as the unknown case (all the octets of the size, none without one).
    /// </summary>
    private void EmitReadSwitch(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f, string local, bool sized, string? index)
    {
        var R = Names.R;
        var id = Lit(f.Id);
        var sw = f.Switch!;
        var on = _c.Compile(sw.On.T, scope);
        var start = "__b_" + f.Id;
        var at = index is null ? id : id + ", " + index;
        // Kaitai reads a switch from the next whole octet.
        w.Line(R + ".AlignToByte();");
        w.Line("int " + start + " = " + R + ".Position;");
        w.Line(Q(sw.InterfaceName) + "? " + local + " = null;");
        // A switch of integers (or strings) is one in expressions: its value, even when no model is built.
        var valueKind = index is null ? sw.ValueKind : null;
        if (valueKind is not null) w.Line((valueKind == "str" ? "string" : "long") + " __sv_" + f.Id + " = " + (valueKind == "str" ? "\"\"" : "0") + ";");
        w.Line(Names.V + "?.Enter(" + at + ");");
        w.Open("try");
        w.Open("switch (" + on.Code + ")");
        foreach (var c in sw.AllCases)
        {
            var label = c.Key is null ? "default:" : "case " + _c.Compile(c.Key.T, scope).Code + ":";
            if (sw.Wrappers.FirstOrDefault(x => x.CsName == c.TypeCsName) is { } wrap)
            {
                w.Open(label);
                // Errors name the field once: the switch adds it as they leave.
                var v = EmitReadWrapperValue(w, wrap, sized, "\"\"", needed: valueKind is not null);
                var slack = wrap.KeepsSlack && sized ? ", " + Names.Slack + " = " + R + ".SliceAt(" + R + ".Position, " + R + ".Remaining)" : "";
                if (valueKind is not null)
                {
                    w.Line("__sv_" + f.Id + " = " + (valueKind == "str" ? v : "unchecked((long)" + v + ")") + ";");
                    v = "__sv_" + f.Id;
                    if (valueKind != "str") v = "unchecked((" + Names.CsPrimitive(wrap.Primitive!) + ")" + v + ")";
                }
                w.Line("if (" + Names.Build + ") " + local + " = new " + Q(wrap.CsName) + " { Value = " + v + slack + " };");
                w.Line("break;");
                w.Close();
                continue;
            }
            var caseType = _types[c.TypeCsName];
            var args = CallArgs(t, scope, c.TypeCsName, c.Args);
            args.InsertRange(0, new[] { "ref " + R, Names.V, Names.Build });
            foreach (var x in caseType.Exports) args.Add("out _");
            if (sized && caseType.KeepsSlack)
            {
                w.Open(label);
                w.Line("var __c_" + f.Id + " = " + Q(c.TypeCsName) + ".ReadCore(" + string.Join(", ", args) + ");");
                EmitKeepSlack(w, caseType, "__c_" + f.Id, Names.Build);
                w.Line(local + " = __c_" + f.Id + ";");
                w.Line("break;");
                w.Close();
            }
            else w.Line(label + " " + local + " = " + Q(c.TypeCsName) + ".ReadCore(" + string.Join(", ", args) + "); break;");
        }
        w.Close();
        w.Close();
        w.Line("catch (" + Names.Exception + " __ex) when (__ex.Through(" + at + ")) { throw; }");
        w.Line(Names.V + "?.Exit();");
        w.Line("if (" + R + ".IsShort) goto __short;");
        // No case, or a case that could not be parsed: keep the octets (those of the size; none without one).
        if (sized) w.Line("if (" + local + " is null) " + R + ".Skip(" + R + ".Remaining, " + id + ");");
        w.Line("if (" + Names.Build + " && " + local + " is null) " + local + " = new " + Q(sw.UnknownName)
               + " { Key = (" + SwitchOnType(t, sw) + ")" + on.Code + ", Bytes = " + R + ".SliceFrom(" + start + ") };");
    }

    /// <summary>Reads the value of a primitive or string case; returns the C# expression of it.</summary>
    private string EmitReadWrapperValue(SourceWriter w, WrapperModel wrap, bool sized, string id, bool needed = false)
    {
        var R = Names.R;
        if (wrap.Kind == FieldKind.Primitive)
        {
            w.Line("var __w = (" + Names.CsPrimitive(wrap.Primitive!) + ")" + Names.ReadCall(wrap.Primitive!, wrap.ByteOrder, id) + ";");
            w.Line("if (" + R + ".IsShort) goto __short;");
            return "__w";
        }
        var term = wrap.Term!;
        string octets;
        if (sized)
        {
            w.Line("int __ws = " + R + ".Position;");
            w.Line("int __wn = " + R + ".Remaining;");
            w.Line(R + ".ReadSpan(__wn, " + id + ");");
            w.Line("if (" + R + ".IsShort) goto __short;");
            octets = Names.Text + ".StripAndTerminate(" + R + ".SpanAt(__ws, __wn), " + term.PadRight.ToString(CultureInfo.InvariantCulture) + ", "
                     + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ")";
        }
        else
        {
            w.Line("int __ws = " + R + ".Position;");
            w.Line("long __wn = " + R + ".Terminated(" + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ", "
                   + (term.Consume ? "true" : "false") + ", " + (term.EosError ? "true" : "false") + ", " + id + ");");
            w.Line("if (" + R + ".IsShort) goto __short;");
            octets = R + ".SpanAt(__ws, (int)__wn)";
        }
        return needed ? EncodingField(wrap.Encoding!) + ".GetString(" + octets + ")" : "(" + Names.Build + " ? " + EncodingField(wrap.Encoding!) + ".GetString(" + octets + ") : \"\")";
    }

    /// <summary>
    /// A byte array or a string: sized (size, size-eos, contents) or ended by a
    /// terminator; a pad octet stripped and a terminator cut inside a size. The
    /// octets are read (not skipped) when a check needs them or a string is
    /// decoded; a byte array's value is a slice of the input.
    /// </summary>
    private void EmitReadOctets(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f, string index)
    {
        var R = Names.R;
        var id = Lit(f.Id);
        var len = Names.Len(f.Id);
        var start = "__b_" + f.Id;
        bool str = f.Kind == FieldKind.Str;
        bool needed = ContentNeeded(t).Contains(f.Id) || f.Valid is not null || f.Contents.Count > 0 || f.RepeatUntil is not null;
        var term = f.Term;
        bool sized = f.Size is not null || f.SizeEos || f.Contents.Count > 0;
        bool processed = f.Process is not null;
        string value;   // the octets of the value (after strip and cut), as a span expression
        w.Line("int " + start + " = " + R + ".Position;");
        if (sized)
        {
            string size = f.SizeEos ? R + ".Remaining" : f.Size is not null ? LongCode(f.Size, scope) : f.Contents.Count.ToString(CultureInfo.InvariantCulture);
            w.Line("long " + len + " = " + size + ";");
            if (f.Limit) w.Line(R + ".CheckSizeLimit(" + len + ", " + id + ");");
            bool cut = term is { Terminator: >= 0 } || term is { PadRight: >= 0 };
            if (!str && !cut && !processed)
                w.Line(Names.ReadOnlyMemory + " " + Names.Field(f.Id) + " = " + Names.Build + " ? " + R + ".ReadMemory(" + len + ", " + id + ") : default;");
            // What a check skips may be skipped unread; what it reads must be there.
            if (!str && !cut && !processed) w.Line("if (!" + Names.Build + ") " + R + (needed ? ".ReadSpan(" : ".Skip(") + len + ", " + id + ");");
            else w.Line(R + ".ReadSpan(" + len + ", " + id + ");");
            w.Line("if (" + R + ".IsShort) goto __short;");
            value = R + ".SpanAt(" + start + ", (int)" + len + ")";
            if (cut)
            {
                if (KeepsRaw(f) && index == "-1") w.Line("__raw_" + f.Id + " = " + Names.Build + " ? " + R + ".SliceAt(" + start + ", (int)" + len + ") : default;");
                w.Line("var __v_" + f.Id + " = " + Names.Text + ".StripAndTerminate(" + value + ", " + term!.PadRight.ToString(CultureInfo.InvariantCulture) + ", "
                       + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ");");
                value = "__v_" + f.Id;
                if (!str && !processed) w.Line(Names.ReadOnlyMemory + " " + Names.Field(f.Id) + " = " + Names.Build + " ? " + R + ".SliceAt(" + start + ", " + value + ".Length) : default;");
            }
        }
        else
        {
            var tm = term!;
            w.Line("long " + len + " = " + R + ".Terminated(" + tm.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (tm.Include ? "true" : "false") + ", "
                   + (tm.Consume ? "true" : "false") + ", " + (tm.EosError ? "true" : "false") + ", " + id + ");");
            w.Line("if (" + R + ".IsShort) goto __short;");
            value = R + ".SpanAt(" + start + ", (int)" + len + ")";
            if (!str && !processed) w.Line(Names.ReadOnlyMemory + " " + Names.Field(f.Id) + " = " + Names.Build + " ? " + R + ".SliceAt(" + start + ", (int)" + len + ") : default;");
        }
        if (processed)
        {
            // The value is the octets read, processed; zlib is checked even when no model is built.
            var pv = "__pv_" + f.Id;
            var when = f.Process!.Kind == "zlib" || needed ? "true" : Names.Build;
            w.Line("byte[] " + pv + " = " + when + " ? " + ProcessCall(f, value, scope, "__off + (" + start + " - " + Names.Start + ")") + " : " + Names.Array + ".Empty<byte>();");
            if (f.Process.Kind == "zlib") w.Line("__raw_" + f.Id + " = " + Names.Build + " ? " + R + ".SliceAt(" + start + ", " + value + ".Length) : default;");
            w.Line(Names.ReadOnlyMemory + " " + Names.Field(f.Id) + " = " + Names.Build + " ? " + pv + " : default;");
            value = "((" + Names.ReadOnlySpan + ")" + pv + ")";
        }
        if (f.Contents.Count > 0)
        {
            var bytes = string.Join(", ", f.Contents.Select(b => "0x" + b.ToString("x2", CultureInfo.InvariantCulture)));
            w.Line("if (" + Names.V + " is not null && !" + Names.MemoryExtensions + ".SequenceEqual(" + value + ", new byte[] { " + bytes + " })) "
                   + Names.V + ".Report(" + Lit((t.KsyId + "." + f.Id).Replace('_', '-')) + ", " + Names.Severity + ".Error, " + id + ", -1, __off + (" + start + " - " + Names.Start + "), "
                   + Lit("[" + bytes + "]") + ", " + Names.Text + ".Bytes(" + value + "), \"contents\");");
        }
        if (str)
        {
            w.Line("string " + Names.Field(f.Id) + " = " + (needed ? "" : Names.Build + " ? ") + EncodingField(f.Encoding!) + ".GetString(" + value + ")" + (needed ? "" : " : \"\"") + ";");
            var typed = new Typed(Names.Field(f.Id), TK.Str);
            EmitValid(w, t, scope, f, typed, index, "__off + (" + start + " - " + Names.Start + ")");
            scope.Locals[f.Id] = typed;
            return;
        }
        var octetsValue = new Typed(needed ? value : "", TK.Bytes, Size: term is null && !processed ? len : "(long)" + value + ".Length");
        EmitValid(w, t, scope, f, octetsValue, index, "__off + (" + start + " - " + Names.Start + ")");
        scope.Locals[f.Id] = octetsValue;
    }

    /// <summary>The call that applies a field's process to octets (a span expression); it returns a new array.</summary>
    private string ProcessCall(FieldModel f, string octets, IScope scope, string offset)
    {
        var p = f.Process!;
        var id = Lit(f.Id);
        Typed? arg = p.Arg is { } a ? _c.Compile(a.T, scope) : null;
        return p.Kind switch
        {
            "xor" when arg!.Kind == TK.Bytes => Names.Process + ".Xor(" + octets + ", " + arg.Code + ", " + id + ", " + offset + ")",
            "xor" => Names.Process + ".Xor(" + octets + ", (long)" + arg!.Code + ")",
            "rol" => Names.Process + ".RotateLeft(" + octets + ", (long)" + arg!.Code + ")",
            "ror" => Names.Process + ".RotateLeft(" + octets + ", 8 - (long)" + arg!.Code + ")",
            _ => Names.Process + ".Inflate(" + octets + ", " + id + ", " + offset + ")",
        };
    }

    /// <summary>The inverse of a field's process, for writers: xor is its own inverse, rol and ror undo each other, zlib deflates (reusing the octets read when they still fit).</summary>
    private string UnprocessCall(FieldModel f, string octets, IScope scope, string raw)
    {
        var p = f.Process!;
        var id = Lit(f.Id);
        Typed? arg = p.Arg is { } a ? _c.Compile(a.T, scope) : null;
        return p.Kind switch
        {
            "xor" when arg!.Kind == TK.Bytes => Names.Process + ".Xor(" + octets + ", " + arg.Code + ", " + id + ", 0)",
            "xor" => Names.Process + ".Xor(" + octets + ", (long)" + arg!.Code + ")",
            "rol" => Names.Process + ".RotateLeft(" + octets + ", 8 - (long)" + arg!.Code + ")",
            "ror" => Names.Process + ".RotateLeft(" + octets + ", (long)" + arg!.Code + ")",
            _ => Names.Process + ".Deflate(" + octets + ", " + raw + ")",
        };
    }

    /// <summary>The static field holding an encoding a type's strings use.</summary>
    private string EncodingField(string name)
    {
        _encodings.Add(name);
        return "__enc_" + new string(name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
    }

    /// <summary>
    /// The byte arrays, strings and lists of a type whose contents (not just their
    /// size) an expression of the type reads: a check must read them rather than skip them.
    /// </summary>
    private HashSet<string> ContentNeeded(TypeModel t)
    {
        if (_contentNeeded.TryGetValue(t.CsName, out var known)) return known;
        var set = new HashSet<string>(StringComparer.Ordinal);
        void Visit(TExpr e, bool sizeOnly)
        {
            switch (e)
            {
                case TRef { Kind: RefKind.Field } r when !sizeOnly: set.Add(r.Id); break;
                // The size of a byte array or list is known unread; a string's length counts its decoded characters.
                case TBuiltin { Name: "size" } b: Visit(b.Target, b.Target.Type.Kind != TKind.Str); break;
                case TBuiltin b: Visit(b.Target, false); break;
                case TMember m: Visit(m.Target, false); break;
                case TCount c: Visit(c.Predicate, false); break;
                case TUnary u: Visit(u.Operand, false); break;
                case TBinary b: Visit(b.Left, false); Visit(b.Right, false); break;
                case TTernary x: Visit(x.Cond, false); Visit(x.Then, false); Visit(x.Else, false); break;
                case TIndex ix: Visit(ix.Target, false); Visit(ix.Index, false); break;
                case TCast c: Visit(c.Target, false); break;
                case TMethod m: Visit(m.Target, false); foreach (var a in m.Args) Visit(a, false); break;
                case TList l: foreach (var i in l.Items) Visit(i, false); break;
            }
        }
        foreach (var e in ExprsOf(t)) Visit(e, false);
        return _contentNeeded[t.CsName] = set;
    }

    /// <summary>
    /// A type can reject its octets when one of its entry checks fails (or a
    /// non-switch field's type can): the octets are then kept whole by the
    /// nearest switch above, as its unknown case.
    /// </summary>
    private bool CanReject(TypeModel t, HashSet<string>? path = null)
    {
        if (IsStruct(t)) return false;
        if (t.Checks.Any(c => c.Severity == "error" && IsEntryCheck(t, c))) return true;
        path ??= new HashSet<string>(System.StringComparer.Ordinal);
        if (!path.Add(t.CsName)) return false; // a type that contains itself is walked once
        return t.Fields.Any(f => f.Kind == FieldKind.User && CanReject(_types[f.UserType!], path));
    }

    /// <summary>
    /// Inside a size: the octets the type's fields left before the end are its
    /// slack, kept in the model (only when building one).
    /// </summary>
    private void EmitKeepSlack(SourceWriter w, TypeModel child, string local, string build)
    {
        if (!child.KeepsSlack) return;
        var R = Names.R;
        w.Line("if (" + build + " && !" + R + ".IsShort && " + R + ".Remaining > 0" + (IsStruct(child) ? "" : " && " + local + " is not null") + ") "
               + local + " = " + local + " with { " + Names.Slack + " = " + R + ".SliceAt(" + R + ".Position, " + R + ".Remaining) };");
    }

    private void EmitRejectedChild(SourceWriter w, TypeModel child, string local, string build, string id)
    {
        if (!CanReject(child)) return;
        w.Open("if (" + build + " && " + local + " is null)");
        w.Open("if (" + Names.R + ".InSubstream)");
        w.Line(Names.R + ".Skip(" + Names.R + ".Remaining, " + id + ");");
        w.Line("goto __short;");
        w.Close();
        w.Line("throw " + Names.Exception + ".Invalid(\"rejected\", " + id + ", " + Names.R + ".Offset, \"the field breaks its own size rule and cannot be parsed\");");
        w.Close();
    }

    private bool EmitPushLimit(SourceWriter w, ReaderScope scope, FieldModel f)
    {
        if (f.Size is null && !f.SizeEos) return false;
        var size = f.SizeEos ? Names.R + ".Remaining" : LongCode(f.Size!, scope);
        if (f.Limit) w.Line(Names.R + ".CheckSizeLimit(" + size + ", " + Lit(f.Id) + ");");
        w.Line("var __m_" + f.Id + " = " + Names.R + ".PushLimit(" + size + ", " + Lit(f.Id) + ");");
        w.Line("if (" + Names.R + ".IsShort) goto __short;");
        return true;
    }

    /// <summary>The loop of a repeated field; <paramref name="readOne"/> reads one element into a local and returns its value.</summary>
    private void EmitReadRepeat(SourceWriter w, TypeModel t, ReaderScope scope, FieldModel f, List<(string Field, TExpr Pred, string Local)> counters,
        string elemType, System.Func<SourceWriter, string, Typed> readOne, int elemSize, string itemSuffix = "")
    {
        var R = Names.R;
        var id = Lit(f.Id);
        var n = Names.Count(f.Id);
        var list = "__list_" + f.Id;
        bool stored = IsStored(f);
        // A list an expression reads ([i], first, ...) is kept even when no model is built.
        var keep = stored && ContentNeeded(t).Contains(f.Id) ? "true" : Names.Build;
        w.Line("int " + n + " = 0;");
        if (f.Repeat == RepeatKind.Expr)
        {
            var count = LongCode(f.RepeatExpr!, scope);
            w.Line("int __cnt_" + f.Id + " = " + Names.Eval + ".CheckedCount(" + count + ", " + id + ", " + R + ".Offset);");
            // A corrupt count must not allocate: the octets must be there first.
            // (elemSize < 0: elements of that many bits.)
            // Elements that may take no octets at all: a count within reason is all there is to check.
            var octets = elemSize < 0
                ? "((long)__cnt_" + f.Id + " * " + (-elemSize).ToString(CultureInfo.InvariantCulture) + " + 7) / 8"
                : "(long)__cnt_" + f.Id + " * " + elemSize.ToString(CultureInfo.InvariantCulture);
            if (elemSize == 0) w.Line(Names.Eval + ".CheckEmptyCount(__cnt_" + f.Id + ", " + id + ", " + R + ".Offset);");
            else w.Line("if (!" + R + ".Ensure(" + octets + ", " + id + ")) goto __short;");
            // Elements that may take no octets: the octets left do not bound the count, so the
            // list starts no larger than they could hold and grows with what is read.
            if (stored && elemSize == 0)
                w.Line("var " + list + " = " + keep + " ? new " + Names.MutableList + "<" + elemType + ">(" + Names.Eval + ".FirstCapacity(__cnt_" + f.Id + ", " + R + ".Remaining)) : null;");
            else if (stored) w.Line("var " + list + " = " + keep + " ? new " + elemType + "[__cnt_" + f.Id + "] : null;");
            w.Open("for (int __i = 0; __i < __cnt_" + f.Id + "; __i++)");
            if (elemSize == 0) w.Line("int __p = " + R + ".Position;");
        }
        else
        {
            if (stored) w.Line("var " + list + " = " + keep + " ? new " + Names.MutableList + "<" + elemType + ">() : null;");
            w.Open(f.Repeat == RepeatKind.Eos ? "while (!" + R + ".IsEof)" : "while (true)");
            w.Line("int __i = " + n + ";");
            w.Line("int __p = " + R + ".Position;");
        }
        var e = "__e_" + f.Id;
        scope.Locals["_index"] = Typed.Long("((long)__i)");
        // The elements read so far, for an element that reads them.
        if (keep == "true") scope.Locals[f.Id] = new Typed(list + "!", TK.Array, Size: n);
        var value = readOne(w, e);
        if (stored)
        {
            if (f.Repeat == RepeatKind.Expr && elemSize != 0) w.Line("if (" + list + " is not null) " + list + "[__i] = " + e + itemSuffix + ";");
            else w.Line(list + "?.Add(" + e + itemSuffix + ");");
        }
        w.Line(n + "++;");
        // Elements that take no octets: nothing in the input bounds how many, even nested; the reader counts them.
        if (f.Repeat == RepeatKind.Expr && elemSize == 0) w.Line("if (" + R + ".Position == __p) " + R + ".EmptyElement(" + id + ");");
        foreach (var k in counters.Where(k => k.Field == f.Id))
        {
            scope.Locals["_"] = value;
            w.Line("if (" + _c.Compile(k.Pred, scope).Code + ") " + k.Local + "++;");
            scope.Locals.Remove("_");
        }
        if (f.Repeat != RepeatKind.Expr)
            w.Line("if (" + R + ".Position == __p) throw " + Names.Exception + ".Invalid(\"no-progress\", " + id + ", " + R + ".Offset, \"a repeated element consumed no octets\");");
        if (f.Repeat == RepeatKind.Until)
        {
            scope.Locals["_"] = value;
            w.Line("if (" + Code(f.RepeatUntil!, scope) + ") break;");
            scope.Locals.Remove("_");
        }
        w.Close();
        scope.Locals.Remove("_index");
        scope.Locals[f.Id] = new Typed(keep == "true" ? list + "!" : "", TK.Array, Size: n);
    }
}
