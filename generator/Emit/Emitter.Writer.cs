using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal sealed partial class Emitter
{
    private string WriteSignature(TypeModel t)
    {
        var ps = new List<string> { "ref " + Names.Writer + " " + Names.W };
        foreach (var p in t.Params) ps.Add(ParamCsType(p) + " " + Names.Param(p.Id));
        foreach (var h in HiddenOf(t.CsName)) ps.Add(HiddenCsType(h) + " " + HiddenName(h));
        return string.Join(", ", ps);
    }

    private static string Patch(string prim) => "Patch" + prim.Replace('s', 'u').ToUpperInvariant();

    private void EmitWriteCore(SourceWriter w, TypeModel t)
    {
        var scope = new WriterScope(this, t);
        _writing = t;
        w.Line();
        w.Doc("Generated writer of '" + t.KsyId + "': derives lengths, counts, keys and constants. For generated code only.");
        w.Line(Names.NeverBrowsable);
        w.Open("internal void WriteCore(" + WriteSignature(t) + ")");
        // A type that contains itself: a model built by hand may nest deeper than any reader reads.
        if (t.Nests)
        {
            w.Line(Names.W + ".Nest(" + Lit(t.KsyId) + ");");
            w.Open("try");
        }
        w.Line("bool __savedLe = " + Names.W + ".LittleEndian;");
        EmitEndianSet(w, t, scope, Names.W);
        var pendingSizes = new Dictionary<string, FieldModel>();
        foreach (var f in t.Fields) EmitWriteFieldIf(w, t, scope, f, "this." + f.CsName, pendingSizes);
        w.Line(Names.W + ".LittleEndian = __savedLe;");
        if (t.Nests)
        {
            w.Close();
            w.Line("finally { " + Names.W + ".Unnest(); }");
        }
        w.Close();
    }

    /// <summary>A field, inside its condition when it has one (<paramref name="value"/>: where its value is, "this.X" or a local).</summary>
    private void EmitWriteFieldIf(SourceWriter w, TypeModel t, ILocalScope scope, FieldModel f, string value, Dictionary<string, FieldModel> pendingSizes)
    {
        if (f.If is null)
        {
            EmitWriteField(w, t, scope, f, value, pendingSizes);
            return;
        }
        // A condition on the stream (_io) cannot be known before writing: the model says whether the field is there.
        var cond = UsesIo(f.If.T) ? value + " is not null" : Code(f.If, scope);
        // A stream writer leaves a handed-off field to its caller, who writes the nested stream next.
        if (f.Handoff) cond = "!" + Names.W + ".StopAtHandoff && (" + cond + ")";
        w.Open("if (" + cond + ")");
        w.Line("if (" + value + " is null) throw new " + Names.Runtime + ".FgWriteException(" + Lit(f.Id) + ", \"is required when \" + " + Lit(f.If.Text) + ");");
        EmitWriteField(w, t, scope, f, value + (f.Repeat == RepeatKind.None && (f.Kind is FieldKind.Primitive or FieldKind.Bytes || f.Kind == FieldKind.User && IsStruct(_types[f.UserType!])) ? ".Value" : ""), pendingSizes);
        w.Close();
        // What was written inside the condition is out of scope after it: later expressions read the model.
        scope.Locals.Remove(f.Id);
    }

    private void EmitWriteField(SourceWriter w, TypeModel t, ILocalScope scope, FieldModel f, string value, Dictionary<string, FieldModel> pendingSizes, bool element = false)
    {
        var W = Names.W;
        var id = Lit(f.Id);
        // A length field named by this field's size: remember where this field starts.
        var sizeField = pendingSizes.TryGetValue(f.Id, out var sf) ? sf : null;
        if (sizeField is not null) w.Line("int __s_" + f.Id + " = " + W + ".Position;");
        switch (f.Kind)
        {
            case FieldKind.Primitive when f.Repeat == RepeatKind.None:
            {
                var prim = Names.CsPrimitive(f.Primitive!);
                var ct = f.EnumCsName is not null ? Q(f.EnumCsName) : prim;
                string v = f.Derivation switch
                {
                    Derivation.Constant => "(" + ct + ")" + Code(f.Valid!.Eq!, scope),
                    Derivation.Count => Derived(f, ct, "(this." + t.Fields.First(x => x.Id == f.DerivedFrom).CsName + "?.Count ?? 0)", "elements", f.DerivedFrom!),
                    Derivation.Size => "(" + ct + ")0",
                    _ => value,
                };
                if (f.Derivation == Derivation.Size)
                {
                    w.Line("int __p_" + f.Id + " = " + W + ".Position;");
                    pendingSizes[f.DerivedFrom!] = f;
                }
                w.Line("var " + Names.Field(f.Id) + " = unchecked(" + v + ");");
                w.Line(Names.WriteCall(f.Primitive!, f.ByteOrder, Names.Field(f.Id), f.EnumCsName is null));
                scope.Locals[f.Id] = PrimTyped(f.Primitive!, f.EnumCsName, Names.Field(f.Id));
                break;
            }
            case FieldKind.Primitive:
            {
                var prim = Names.CsPrimitive(f.Primitive!);
                if (f.Derivation == Derivation.Constant)
                {
                    var count = f.Repeat == RepeatKind.Expr ? LongCode(f.RepeatExpr!, scope) : "0";
                    var c = Code(f.Valid!.Eq!, scope);
                    w.Line("for (long __i = 0; __i < " + count + "; __i++) " + Names.WriteCall(f.Primitive!, f.ByteOrder, "unchecked((" + prim + ")" + c + ")", f.EnumCsName is null));
                    break;
                }
                EmitCountCheck(w, scope, f, value);
                w.Line("foreach (var __e in " + value + " ?? " + Names.Array + ".Empty<" + ElemCsType(f) + ">()) " + Names.WriteCall(f.Primitive!, f.ByteOrder, "__e", f.EnumCsName is null));
                scope.Locals[f.Id] = new Typed(value, TK.Array, Size: "(" + value + "?.Count ?? 0)");
                break;
            }
            case FieldKind.Bytes or FieldKind.Str when f.Repeat != RepeatKind.None:
            {
                EmitCountCheck(w, scope, f, value);
                w.Line("var __l_" + f.Id + " = " + value + " ?? " + Names.Array + ".Empty<" + ElemCsType(f) + ">();");
                w.Open("for (int __i = 0; __i < __l_" + f.Id + ".Count; __i++)");
                scope.Locals["_index"] = Typed.Long("((long)__i)");
                EmitWriteField(w, t, scope, f with { Repeat = RepeatKind.None }, "__l_" + f.Id + "[__i]", pendingSizes, element: true);
                scope.Locals.Remove("_index");
                w.Close();
                scope.Locals[f.Id] = new Typed(value, TK.Array, Size: "(" + value + "?.Count ?? 0)");
                break;
            }
            case FieldKind.Bytes or FieldKind.Str:
            {
                if (f.Contents.Count > 0)
                {
                    w.Line(W + ".Bytes([" + string.Join(", ", f.Contents.Select(b => "0x" + b.ToString("x2", CultureInfo.InvariantCulture))) + "]);");
                    break;
                }
                // The octets of the value: a string is encoded, processed octets are processed back.
                var octets = f.Kind == FieldKind.Str ? "__o_" + f.Id : value + ".Span";
                if (f.Kind == FieldKind.Str) w.Line("var " + octets + " = " + EncodingField(f.Encoding!) + ".GetBytes(" + value + " ?? \"\");");
                if (f.Process is not null)
                {
                    w.Line("var __po_" + f.Id + " = " + UnprocessCall(f, value + ".Span", scope, element ? "default" : "this." + Names.Captured("__raw_" + f.Id)) + ";");
                    octets = "__po_" + f.Id;
                }
                var term = f.Term;
                int terminator = term is { Include: false, Terminator: >= 0 } ? term.Terminator : -1;
                bool fixedSize = f.Size is not null && !IsDerivedSize(t, f) && !UsesIo(f.Size.T);
                // The octets read, while they still hold the value: what followed its terminator is given back.
                var raw = "this." + Names.Captured("__raw_" + f.Id);
                // An element of a list keeps no octets of its own (one field holds them for a single value).
                var keeps = KeepsRaw(f) && !element ? Names.Text + ".Keeps(" + octets + ", " + raw + ", " + term!.PadRight.ToString(CultureInfo.InvariantCulture) + ", "
                                          + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ")" : null;
                if (keeps is not null && fixedSize) keeps += " && " + raw + ".Length == " + LongCode(f.Size!, scope);
                if (keeps is not null) w.Line("if (" + keeps + ") " + W + ".Bytes(" + raw + ".Span); else");
                if (fixedSize && (term is not null || f.Kind == FieldKind.Str))
                {
                    // Value, terminator when there is room, padding: the field keeps its size.
                    w.Line(W + ".Sized(" + octets + ", (int)" + LongCode(f.Size!, scope) + ", " + terminator.ToString(CultureInfo.InvariantCulture) + ", "
                           + (term?.PadRight ?? -1).ToString(CultureInfo.InvariantCulture) + ", " + id + ");");
                }
                else if (fixedSize)
                {
                    var size = LongCode(f.Size!, scope);
                    w.Line("if (" + octets + ".Length != " + size + ") throw new " + Names.Runtime + ".FgWriteException(" + id + ", \"has \" + " + octets + ".Length + \" octets; the grammar says \" + " + size + ");");
                    w.Line(W + ".Bytes(" + octets + ");");
                }
                else if (term is { Terminator: >= 0 })
                {
                    // An unsized value that does not consume its terminator leaves it to the next field.
                    bool consume = f.Size is not null || f.SizeEos || term.Consume;
                    w.Line(W + ".Terminated(" + octets + ", " + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ", " + (consume ? "true" : "false") + ");");
                }
                else w.Line(W + ".Bytes(" + octets + ");");
                scope.Locals[f.Id] = f.Kind == FieldKind.Str ? new Typed(value, TK.Str) : new Typed(value + ".Span", TK.Bytes, Size: value + ".Length");
                break;
            }
            case FieldKind.User when f.Repeat == RepeatKind.None:
            {
                var child = _types[f.UserType!];
                var args = CallArgs(t, scope, child.CsName, f.Args);
                args.Insert(0, "ref " + W);
                bool fixedSize = f.Size is not null && !IsDerivedSize(t, f) && !UsesIo(f.Size.T);
                if (fixedSize) w.Line("int __u_" + f.Id + " = " + W + ".Position;");
                var target = IsStruct(child) ? value : "(" + value + " ?? throw new " + Names.Runtime + ".FgWriteException(" + id + ", \"is not set\"))";
                if (f.Process is not null)
                {
                    // Written apart, then processed back.
                    var rest = string.Join(", ", args.Skip(1));
                    var comma = rest.Length > 0 ? ", " : "";
                    var slack = child.KeepsSlack ? value + "." + Names.Slack + ".Span" : null;
                    w.Line("var __pm_" + f.Id + " = " + Names.Writer + ".Measure(" + W + ".LittleEndian);");
                    w.Line(target + ".WriteCore(ref __pm_" + f.Id + comma + rest + ");");
                    w.Line("__pm_" + f.Id + ".AlignToByte();");
                    if (slack is not null) w.Line("__pm_" + f.Id + ".Bytes(" + slack + ");");
                    w.Line("var __pb_" + f.Id + " = new byte[__pm_" + f.Id + ".Position];");
                    w.Line("var __pw_" + f.Id + " = new " + Names.Writer + "(__pb_" + f.Id + ", " + W + ".LittleEndian);");
                    w.Line(target + ".WriteCore(ref __pw_" + f.Id + comma + rest + ");");
                    w.Line("__pw_" + f.Id + ".AlignToByte();");
                    if (slack is not null) w.Line("__pw_" + f.Id + ".Bytes(" + slack + ");");
                    w.Line(W + ".Bytes(" + UnprocessCall(f, "__pb_" + f.Id, scope, "this." + Names.Captured("__raw_" + f.Id)) + ");");
                    if (fixedSize) EmitPadTo(w, scope, f);
                    break;
                }
                w.Line(target + ".WriteCore(" + string.Join(", ", args) + ");");
                EmitWriteSlack(w, f, child, value);
                if (fixedSize) EmitPadTo(w, scope, f);
                break;
            }
            case FieldKind.User:
            {
                var child = _types[f.UserType!];
                EmitCountCheck(w, scope, f, value);
                scope.Locals["_index"] = Typed.Long("((long)__i)");
                var args = CallArgs(t, scope, child.CsName, f.Args);
                scope.Locals.Remove("_index");
                args.Insert(0, "ref " + W);
                w.Line("var __l_" + f.Id + " = " + value + " ?? " + Names.Array + ".Empty<" + ElemCsType(f) + ">();");
                bool fixedSize = f.Size is not null && !UsesIo(f.Size.T);
                if (child.KeepsSlack || fixedSize)
                {
                    // Each element in its own size: its slack, then padding to the size.
                    w.Open("for (int __i = 0; __i < __l_" + f.Id + ".Count; __i++)");
                    w.Line("var __e = __l_" + f.Id + "[__i];");
                    if (fixedSize) w.Line("int __u_" + f.Id + " = " + W + ".Position;");
                    w.Line("__e.WriteCore(" + string.Join(", ", args) + ");");
                    EmitWriteSlack(w, f, child, "__e");
                    if (fixedSize)
                    {
                        scope.Locals["_index"] = Typed.Long("((long)__i)");
                        EmitPadTo(w, scope, f);
                        scope.Locals.Remove("_index");
                    }
                    w.Close();
                }
                else w.Line("for (int __i = 0; __i < __l_" + f.Id + ".Count; __i++) __l_" + f.Id + "[__i].WriteCore(" + string.Join(", ", args) + ");");
                scope.Locals[f.Id] = new Typed(value, TK.Array, Size: "(" + value + "?.Count ?? 0)");
                break;
            }
            case FieldKind.Switch when f.Repeat == RepeatKind.None:
                EmitWriteSwitch(w, t, scope, f, value);
                break;
            case FieldKind.Switch:
            {
                EmitCountCheck(w, scope, f, value);
                w.Line("var __l_" + f.Id + " = " + value + " ?? " + Names.Array + ".Empty<" + ElemCsType(f) + ">();");
                w.Open("for (int __i = 0; __i < __l_" + f.Id + ".Count; __i++)");
                scope.Locals["_index"] = Typed.Long("((long)__i)");
                EmitWriteSwitch(w, t, scope, f, "__l_" + f.Id + "[__i]");
                scope.Locals.Remove("_index");
                w.Close();
                scope.Locals[f.Id] = new Typed(value, TK.Array, Size: "(" + value + "?.Count ?? 0)");
                break;
            }
        }
        if (sizeField is not null)
        {
            var prim = Names.CsPrimitive(sizeField.Primitive!);
            var ct = sizeField.EnumCsName is not null ? Q(sizeField.EnumCsName) : prim;
            w.Line(Names.Field(sizeField.Id) + " = " + Derived(sizeField, ct, "(" + W + ".Position - __s_" + f.Id + ")", "octets", f.Id) + ";");
            w.Line(W + "." + Patch(sizeField.Primitive!) + "(__p_" + sizeField.Id + ", unchecked((" + Names.CsPrimitive("u" + sizeField.Primitive!.Substring(1)) + ")" + Names.Field(sizeField.Id) + ")" + Names.Order(sizeField.ByteOrder) + ");");
            pendingSizes.Remove(f.Id);
        }
    }

    /// <summary>
    /// A switch's value: its case type writes itself, a primitive or string case
    /// its value, the unknown case its octets. Where the model keeps the key (the
    /// writer cannot derive it), the value must be of the type the key selects.
    /// </summary>
    private void EmitWriteSwitch(SourceWriter w, TypeModel t, ILocalScope scope, FieldModel f, string value)
    {
        var W = Names.W;
        var id = Lit(f.Id);
        var sw = f.Switch!;
        bool fixedSize = f.Size is not null && !IsDerivedSize(t, f) && !UsesIo(f.Size.T);
        w.Line(W + ".AlignToByte();"); // a switch starts at the next whole octet, as Kaitai reads it
        if (fixedSize) w.Line("int __u_" + f.Id + " = " + W + ".Position;");
        // The key as the model has it, to check the value against (not when the key is read from the stream itself).
        Typed? on = sw.KeyDerivable || UsesIo(sw.On.T) ? null : _c.Compile(sw.On.T, scope);
        w.Open("switch (" + value + ")");
        int i = 0;
        foreach (var caseCs in sw.AllCases.Select(c => c.TypeCsName).Distinct())
        {
            var local = "__c" + i.ToString(CultureInfo.InvariantCulture);
            i++;
            w.Open("case " + Q(caseCs) + " " + local + ":");
            if (on is not null) EmitKeySelects(w, scope, f, sw, on, caseCs);
            if (sw.Wrappers.FirstOrDefault(x => x.CsName == caseCs) is { } wrap)
            {
                EmitWriteWrapperValue(w, wrap, local + ".Value", f.Size is not null || f.SizeEos);
                if (wrap.KeepsSlack) w.Line(Names.W + ".Bytes(" + local + "." + Names.Slack + ".Span);");
                w.Line("break;");
                w.Close();
                continue;
            }
            var c = sw.AllCases.First(x => x.TypeCsName == caseCs);
            var args = CallArgs(t, scope, caseCs, c.Args);
            args.Insert(0, "ref " + W);
            w.Line(local + ".WriteCore(" + string.Join(", ", args) + ");");
            EmitWriteSlack(w, f, _types[caseCs], local);
            w.Line("break;");
            w.Close();
        }
        w.Open("case " + Q(sw.UnknownName) + " __u:");
        if (on is not null)
            w.Line("if (!(" + Cmp(on, new Typed("__u.Key", on.Kind, Enum: on.Enum)) + ")) throw new " + Names.Runtime + ".FgWriteException(" + id
                   + ", \"holds octets kept for key \" + __u.Key + \", but the key is \" + " + on.Show() + ");");
        w.Line(W + ".Bytes(__u.Bytes.Span);");
        w.Line("break;");
        w.Close();
        w.Line("default: throw new " + Names.Runtime + ".FgWriteException(" + id + ", \"is not set\");");
        w.Close();
        if (fixedSize) EmitPadTo(w, scope, f);
    }

    /// <summary>Throws unless the key selects the case type (one of its keys, or, for the default type, none of the others).</summary>
    private void EmitKeySelects(SourceWriter w, ILocalScope scope, FieldModel f, SwitchModel sw, Typed on, string caseCs)
    {
        var own = sw.Cases.Where(c => c.TypeCsName == caseCs).Select(c => "(" + Cmp(on, _c.Compile(c.Key!.T, scope)) + ")").ToList();
        if (sw.Default?.TypeCsName == caseCs)
        {
            var others = sw.Cases.Where(c => c.TypeCsName != caseCs).Select(c => "(" + Cmp(on, _c.Compile(c.Key!.T, scope)) + ")").ToList();
            own.Add(others.Count == 0 ? "true" : "!(" + string.Join(" || ", others) + ")");
        }
        var name = sw.Wrappers.FirstOrDefault(x => x.CsName == caseCs)?.KsyType ?? _types[caseCs].KsyId;
        w.Line("if (!(" + string.Join(" || ", own) + ")) throw new " + Names.Runtime + ".FgWriteException(" + Lit(f.Id)
               + ", \"holds a " + name + ", which key \" + " + on.Show() + " + \" does not select\");");
    }

    /// <summary>The value of a primitive or string case.</summary>
    private void EmitWriteWrapperValue(SourceWriter w, WrapperModel wrap, string value, bool sized)
    {
        if (wrap.Kind == FieldKind.Primitive)
        {
            w.Line(Names.WriteCall(wrap.Primitive!, wrap.ByteOrder, value));
            return;
        }
        var term = wrap.Term!;
        var octets = EncodingField(wrap.Encoding!) + ".GetBytes(" + value + " ?? \"\")";
        if (!sized && term.Terminator >= 0)
            w.Line(Names.W + ".Terminated(" + octets + ", " + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", " + (term.Include ? "true" : "false") + ", " + (term.Consume ? "true" : "false") + ");");
        else if (term.Terminator >= 0 && !term.Include)
            w.Line(Names.W + ".Terminated(" + octets + ", " + term.Terminator.ToString(CultureInfo.InvariantCulture) + ", false, true);");
        else w.Line(Names.W + ".Bytes(" + octets + ");");
    }

    /// <summary>
    /// The slack a type kept from inside its size goes back after its fields; a
    /// field without a size has no room for any.
    /// </summary>
    private void EmitWriteSlack(SourceWriter w, FieldModel f, TypeModel child, string value)
    {
        if (!child.KeepsSlack) return;
        if (f.Size is not null || f.SizeEos) w.Line(Names.W + ".Bytes(" + value + "." + Names.Slack + ".Span);");
        else w.Line("if (!" + value + "." + Names.Slack + ".IsEmpty) throw new " + Names.Runtime + ".FgWriteException(" + Lit(f.Id)
                    + ", \"has \" + " + value + "." + Names.Slack + ".Length + \" octets of slack, but the field has no size to hold them\");");
    }

    /// <summary>The type whose writer is being emitted (for the instances its expressions read).</summary>
    private TypeModel? _writing;

    /// <summary>Whether an expression reads the stream (_io), itself or through the instances it reads, which a writer cannot know in advance.</summary>
    private bool UsesIo(TExpr e, HashSet<string>? seen = null)
    {
        bool io = false;
        seen ??= new HashSet<string>(System.StringComparer.Ordinal);
        Walk(e, x => io |= x is TRef { Kind: RefKind.IoSize or RefKind.IoEos or RefKind.IoPos or RefKind.IoValue or RefKind.RootIoValue or RefKind.RootIoSize }
                         || x is TRef { Kind: RefKind.Instance } r && _writing is { } t && seen.Add(r.Id)
                            && (t.ParseInstances.Any(p => p.Id == r.Id) || t.Instances.FirstOrDefault(i => i.Id == r.Id) is { } inst && (UsesIo(inst.Value.T, seen) || inst.If is not null && UsesIo(inst.If.T, seen))));
        return io;
    }

    private static bool IsDerivedSize(TypeModel t, FieldModel f)
        => f.Size?.Expr is NameRef n && t.Fields.Any(x => x.Id == n.Id && x.Derivation == Derivation.Size && x.DerivedFrom == f.Id);

    private void EmitPadTo(SourceWriter w, IScope scope, FieldModel f)
    {
        var size = LongCode(f.Size!, scope);
        var used = Names.W + ".Position - __u_" + f.Id;
        w.Line("if (" + used + " > " + size + ") throw new " + Names.Runtime + ".FgWriteException(" + Lit(f.Id) + ", \"takes \" + (" + used + ") + \" octets; the grammar gives it \" + " + size + ");");
        w.Line(Names.W + ".Zeros((int)(" + size + " - (" + used + ")));");
    }

    private void EmitCountCheck(SourceWriter w, IScope scope, FieldModel f, string value)
    {
        if (f.Repeat != RepeatKind.Expr || f.Derivation != Derivation.None) return;
        if (f.RepeatExpr!.Expr is NameRef || UsesIo(f.RepeatExpr.T)) return; // a count field (derived from the list), or one the stream sets
        // A negative count reads no element (as in every Kaitai runtime).
        var count = "global::System.Math.Max(0L, " + LongCode(f.RepeatExpr, scope) + ")";
        w.Line("if ((" + value + "?.Count ?? 0) != " + count + ") throw new " + Names.Runtime + ".FgWriteException(" + Lit(f.Id) + ", \"has \" + (" + value + "?.Count ?? 0) + \" elements; the grammar says \" + " + count + ");");
    }

    /// <summary>Read, Validate, Measure, Write and ToArray for types that stand alone (no _root/_parent values).</summary>
    private void EmitPublicApi(SourceWriter w, TypeModel t)
    {
        if (HiddenOf(t.CsName).Count > 0) return;
        bool le = t.Endian.Kind == EndianKind.Inherit;
        var extra = new List<string>();
        var extraArgs = new List<string>();
        if (le) { extra.Add("bool littleEndian = false"); }
        var pars = t.Params.Select(p => ParamCsType(p) + " " + ParamName(p)).ToList();
        var parArgs = t.Params.Select(ParamName).ToList();
        string Sig(string first) => string.Join(", ", new[] { first }.Concat(pars).Concat(extra).Where(x => x.Length > 0));
        var leArg = le ? "littleEndian" : "false";
        var outs = string.Concat(t.Exports.Select(_ => ", out _"));
        var readArgs = string.Concat(parArgs.Select(a => ", " + a));

        w.Line();
        w.Doc("Reads a " + t.KsyId + " from octets, all of them" + (t.KeepsSlack ? " (octets its fields leave are kept as Slack, and written back)" : " (octets after it are an error: Read(data, out bytesConsumed) reads one from the start of a longer buffer)") + ". Octets and lists in the model are slices of data, not copies. Throws FgException on a structural error; rules are checked by Validate.");
        w.Open("public static " + Q(t.CsName) + " Read(" + Sig(Names.ReadOnlyMemory + " data") + ")");
        w.Line("var " + Names.R + " = new " + Names.Reader + "(data, " + leArg + ");");
        if (t.KeepsSlack)
        {
            // What follows the fields is kept, so that writing gives it back.
            w.Line("var __m = ReadCore(ref " + Names.R + ", null, true" + readArgs + outs + ")" + (IsStruct(t) ? "" : "!") + ";");
            w.Line("return " + Names.R + ".Remaining > 0 ? __m with { " + Names.Slack + " = " + Names.R + ".SliceAt(" + Names.R + ".Position, " + Names.R + ".Remaining) } : __m;");
        }
        else
        {
            w.Line("var __m = ReadCore(ref " + Names.R + ", null, true" + readArgs + outs + ")" + (IsStruct(t) ? "" : "!") + ";");
            // Not silently ignored: what follows the model is not part of it.
            w.Line("if (" + Names.R + ".Remaining > 0) throw " + Names.Exception + ".Invalid(\"trailing-data\", \"\", " + Names.R + ".Offset, " + Names.R + ".Remaining + \" octet(s) after the " + t.KsyId + ", which ends here (Read(data, out bytesConsumed) reads one from the start of a longer buffer)\");");
            w.Line("return __m;");
        }
        w.Close();

        // The octets a model took, for a reader of a larger buffer: what follows is not the model's (no slack).
        string SigOut(string first, params string[] outParams) => string.Join(", ", new[] { first }.Concat(pars).Concat(outParams).Concat(extra).Where(x => x.Length > 0));
        var passLe = le ? ", littleEndian" : "";
        w.Line();
        w.Doc("Reads a " + t.KsyId + " from the start of data and says how many octets it took; octets after them are not part of the model. Throws FgException on a structural error; rules are checked by Validate.");
        // Names a grammar parameter could also have (model, bytes_consumed) get another spelling.
        var consumedName = parArgs.Contains("@bytesConsumed") ? "octetsConsumed" : "bytesConsumed";
        var modelName = parArgs.Contains("@model") ? "result" : "model";
        w.Open("public static " + Q(t.CsName) + " Read(" + SigOut(Names.ReadOnlyMemory + " data", "out int " + consumedName) + ")");
        w.Line("var " + Names.R + " = new " + Names.Reader + "(data, " + leArg + ");");
        w.Line("var __m = ReadCore(ref " + Names.R + ", null, true" + readArgs + outs + ")" + (IsStruct(t) ? "" : "!") + ";");
        w.Line(consumedName + " = " + Names.R + ".Position;");
        w.Line("return __m;");
        w.Close();
        w.Line();
        w.Doc("Reads a " + t.KsyId + " from the start of data without throwing: false (and no model) when the octets are not a whole " + t.KsyId + " (too few, or structurally broken). Rules are checked by Validate.");
        var modelOut = IsStruct(t) ? "out " + Q(t.CsName) + " " + modelName : "[global::System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out " + Q(t.CsName) + "? " + modelName;
        w.Open("public static bool TryRead(" + SigOut(Names.ReadOnlyMemory + " data", modelOut, "out int " + consumedName) + ")");
        w.Line("try { " + modelName + " = Read(data" + readArgs + ", out " + consumedName + passLe + "); return true; }");
        w.Line("catch (" + Names.Exception + ") { " + modelName + " = default; " + consumedName + " = 0; return false; }");
        w.Close();

        w.Line();
        w.Doc("Checks octets against every rule of the grammar and returns every violation (empty when valid). Allocates nothing when valid.");
        w.Open("public static " + Names.ViolationList + " Validate(" + Sig(Names.ReadOnlySpan + " data") + ")");
        w.Line("var " + Names.V + " = new " + Names.Validation + "();");
        w.Line("var " + Names.R + " = new " + Names.Reader + "(data, " + leArg + ");");
        w.Line("try { ReadCore(ref " + Names.R + ", " + Names.V + ", false" + readArgs + outs + "); }");
        w.Line("catch (" + Names.Exception + " e) { " + Names.V + ".Add(e.ToViolation()); return " + Names.V + ".Violations; }");
        // As Read: octets after a type that keeps no slack are not part of it.
        if (!t.KeepsSlack)
            w.Line("if (" + Names.R + ".Remaining > 0) " + Names.V + ".Add(new " + Names.Runtime + ".FgViolation(\"trailing-data\", " + Names.Runtime + ".FgSeverity.Error, \"\", " + Names.R + ".Offset, \"the end of the " + t.KsyId + "\", " + Names.R + ".Remaining + \" more octet(s)\", \"Octets follow the " + t.KsyId + ", which ends here.\"));");
        w.Line("return " + Names.V + ".Violations;");
        w.Close();

        if (!_g.Writers) return;
        var writeArgs = string.Concat(parArgs.Select(a => ", " + a));
        w.Line();
        w.Doc("The number of octets Write produces.");
        w.Open("public int Measure(" + string.Join(", ", pars.Concat(extra)) + ")");
        w.Line("var " + Names.W + " = " + Names.Writer + ".Measure(" + leArg + ");");
        w.Line("WriteCore(ref " + Names.W + writeArgs + ");");
        w.Line(Names.W + ".AlignToByte();");
        if (t.KeepsSlack) w.Line(Names.W + ".Bytes(" + Names.Slack + ".Span);");
        w.Line("return " + Names.W + ".Position;");
        w.Close();

        var measureArgs = string.Join(", ", parArgs.Concat(le ? new[] { "littleEndian" } : new string[0]));
        var passArgs = string.Concat(parArgs.Select(a => ", " + a)) + (le ? ", littleEndian" : "");
        w.Line();
        w.Doc("Writes the model into destination, deriving lengths, counts, keys, constants and padding, and returns the octets written. Throws ArgumentException when it is too small, FgInvalidModelException (leaving it cleared) when the result would break a rule. With verify false the model is written as it is even then (to reproduce a damaged input that was read).");
        w.Open("public int Write(" + Sig(Names.Span + " destination") + ", bool verify = true)");
        w.Line("int __size = Measure(" + measureArgs + ");");
        w.Line("if (destination.Length < __size) throw new " + Names.ArgumentException + "(\"needs \" + __size + \" octets, has \" + destination.Length, nameof(destination));");
        w.Line("var __span = destination.Slice(0, __size);");
        w.Line("var " + Names.W + " = new " + Names.Writer + "(__span, " + leArg + ");");
        w.Line("WriteCore(ref " + Names.W + writeArgs + ");");
        w.Line(Names.W + ".AlignToByte();");
        if (t.KeepsSlack) w.Line(Names.W + ".Bytes(" + Names.Slack + ".Span);");
        w.Line("var __errors = verify ? " + Names.WriteHelpers + ".Errors(Validate(__span" + readArgs + (le ? ", littleEndian" : "") + ")) : null;");
        w.Open("if (__errors is not null)");
        w.Line("__span.Clear();");
        w.Line("throw new " + Names.Runtime + ".FgInvalidModelException(" + Lit(t.KsyId) + ", __errors);");
        w.Close();
        w.Line("return __size;");
        w.Close();

        w.Line();
        w.Doc("Writes the model to output (see the Span overload); nothing is advanced when it would break a rule.");
        w.Line("public void Write(" + Sig(Names.BufferWriter + " output") + ", bool verify = true) => output.Advance(Write(output.GetSpan(Measure(" + measureArgs + "))" + passArgs + ", verify));");

        w.Line();
        w.Doc("Writes the model to a new array (see the Span overload).");
        w.Open("public byte[] ToArray(" + string.Join(", ", pars.Concat(extra).Concat(new[] { "bool verify = true" })) + ")");
        w.Line("var __out = new byte[Measure(" + measureArgs + ")];");
        w.Line("Write(__out" + passArgs + ", verify);");
        w.Line("return __out;");
        w.Close();
    }

    private static string ParamName(ParamModel p)
    {
        var n = p.CsName;
        return "@" + char.ToLowerInvariant(n[0]) + n.Substring(1);
    }
}
