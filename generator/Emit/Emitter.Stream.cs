using System.Collections.Generic;
using System.Linq;
using FormatGen.Generator.Model;

namespace FormatGen.Generator.Emit;

internal sealed partial class Emitter
{
    /// <summary>
    /// The streaming API of a grammar with a -fg-stream field: a grammar object
    /// for FgStreamReader (prefix once, then one element at a time) and a
    /// stream writer that writes the prefix and then elements as they come.
    /// </summary>
    private string EmitStream(StreamModel s)
    {
        var w = new SourceWriter();
        w.Line(Header()).Line("namespace " + Ns + ";").Line();
        var element = _types[s.ElementCsName];
        var last = s.Steps[s.Steps.Count - 1];
        var lastType = _types[last.TypeCsName];
        var streamField = lastType.Fields.First(f => f.Id == last.FieldId);

        // Prefix members: the stored fields before each step's field.
        var prefix = new List<(TypeModel Type, FieldModel Field)>();
        foreach (var step in s.Steps)
        {
            var t = _types[step.TypeCsName];
            foreach (var f in t.Fields)
            {
                if (f.Id == step.FieldId) break;
                if (IsStored(f)) prefix.Add((t, f));
            }
        }
        var elemArgTypes = element.Params.Select(ParamCsType).ToList();
        var elemHidden = HiddenOf(element.CsName).Select(HiddenCsType).ToList();
        var grammarName = _g.RootCsName + "StreamGrammar";
        // The root's parameters: given to the grammar (and the writer) at construction.
        var rootParams = _root.Params.Select(p => (Type: ParamCsType(p), Name: Names.Param(p.Id), Arg: "@" + Names.Param(p.Id).Substring(2), p.Doc)).ToList();
        var rootParamDecl = string.Join(", ", rootParams.Select(p => p.Type + " " + p.Arg));
        var rootParamArgs = string.Join(", ", rootParams.Select(p => p.Arg));

        // ---- reader side ----
        w.Doc("Reads a " + _root.KsyId + " stream one " + element.KsyId + " at a time; use with FgStreamReader. Properties hold the fields read before the first " + element.KsyId + ".");
        w.Line("[" + Names.GeneratedCode + "]");
        w.Open("public sealed partial class " + grammarName + " : " + Names.StreamGrammar + "<" + Q(element.CsName) + ">");
        foreach (var (t, f) in prefix)
        {
            w.Doc(f.Doc, "Read before the stream (field '" + f.Id + "' of '" + t.KsyId + "').");
            w.Line("public " + FieldCsType(f) + (f.If is not null || f.Kind is FieldKind.User or FieldKind.Switch && !(f.Kind == FieldKind.User && IsStruct(_types[f.UserType!])) ? "?" : "") + " " + f.CsName + " { get; private set; }");
        }
        for (int i = 0; i < elemArgTypes.Count; i++) w.Line("private " + elemArgTypes[i] + " __a" + i + ";");
        for (int i = 0; i < elemHidden.Count; i++) w.Line("private " + elemHidden[i] + " __h" + i + ";");
        w.Line("private bool __le;");
        foreach (var p in rootParams) w.Line("private readonly " + p.Type + " " + p.Name + ";");
        w.Line();
        if (rootParams.Count > 0)
        {
            w.Doc("A grammar for a stream read with the root's parameters.");
            w.Open("public " + grammarName + "(" + rootParamDecl + ")");
            foreach (var p in rootParams) w.Line(p.Name + " = " + p.Arg + ";");
            w.Close();
            w.Line();
        }
        w.Doc("Byte order of the elements.");
        w.Line("public override bool ElementsLittleEndian => __le;");
        w.Line();
        if (_g.Types.Any(t => t.Fields.Any(f => f.Limit)))
        {
            w.Doc("A field marked -fg-limit carries the element length limit.");
            w.Line("public override bool LimitsField => true;");
            w.Line();
        }
        w.Open("public override void ReadPrefix(ref " + Names.Reader + " " + Names.R + ", " + Names.Validation + "? " + Names.V + ")");
        w.Line("bool " + Names.Build + " = true;");
        w.Line("int " + Names.Start + " = " + Names.R + ".Position;");
        w.Line("long __off = " + Names.R + ".Offset;");
        w.Line("int " + Names.IoSize + " = " + Names.R + ".Remaining;");
        w.Line("bool __savedLe = false;");
        ReaderScope? prevScope = null;
        TypeModel? prevType = null;
        for (int k = 0; k < s.Steps.Count; k++)
        {
            var t = _types[s.Steps[k].TypeCsName];
            var scope = new ReaderScope(this, t, new Dictionary<string, Typed>());
            if (prevType is not null) EmitStepHidden(w, prevType, prevScope!, t);
            EmitEndianSet(w, t, scope, Names.R);
            foreach (var f in t.Fields)
            {
                if (f.Id == s.Steps[k].FieldId) break;
                EmitReadField(w, t, scope, f, new List<(string, TExpr, string)>());
            }
            prevScope = scope;
            prevType = t;
        }
        var elemArgs = CallArgs(lastType, prevScope!, element.CsName, streamField.Args);
        for (int i = 0; i < elemArgs.Count; i++) w.Line((i < elemArgTypes.Count ? "__a" + i : "__h" + (i - elemArgTypes.Count)) + " = " + elemArgs[i] + ";");
        w.Line("__le = " + Names.R + ".LittleEndian;");
        foreach (var (t, f) in prefix) w.Line(f.CsName + " = " + ModelValue(f) + ";");
        w.Line("return;");
        w.Line("__short:");
        w.Line("_ = __savedLe;");
        w.Close();
        w.Line();
        var callArgs = string.Join(", ", new[] { "ref " + Names.R, Names.V, Names.Build }
            .Concat(elemArgTypes.Select((_, i) => "__a" + i)).Concat(elemHidden.Select((_, i) => "__h" + i))
            .Concat(element.Exports.Select(x => "out var __e_" + Names.Export(x))));
        w.Open("public override " + Q(element.CsName) + "? ReadElement(ref " + Names.Reader + " " + Names.R + ", " + Names.Validation + "? " + Names.V + ", bool " + Names.Build + ", long index, out bool last)");
        w.Line(Names.R + ".LittleEndian = __le;");
        w.Line("var __e = " + Q(element.CsName) + ".ReadCore(" + callArgs + ");");
        var untilScope = new ReaderScope(this, lastType, new Dictionary<string, Typed>());
        untilScope.Locals["_"] = new Typed(ExportsMarker + "__e_", TK.User, User: element.CsName);
        w.Line("last = " + (streamField.RepeatUntil is null ? "false" : Code(streamField.RepeatUntil, untilScope)) + ";");
        w.Line("return __e;");
        w.Close();
        w.Line();
        w.Doc("A short label for an element's octets, for messages (see LabelCore).");
        w.Open("public override string? Label(" + Names.ReadOnlySpan + " element)");
        w.Line("string? label = null;");
        w.Line("LabelCore(element, ref label);");
        w.Line("return label;");
        w.Close();
        w.Line("partial void LabelCore(" + Names.ReadOnlySpan + " element, ref string? label);");
        w.Close();
        w.Line();

        // ---- writer side ----
        if (!_g.Writers) return w.ToString();
        var writerName = _g.RootCsName + "StreamWriter";
        // Typed as the model's properties: a field with an 'if' may be null.
        var ctorParams = prefix.Select(p => FieldCsType(p.Field) + (p.Field.If is not null ? "?" : "") + " " + LowerFirst(p.Field.CsName)).Concat(rootParams.Select(p => p.Type + " " + p.Arg)).ToList();
        w.Doc("Writes a " + _root.KsyId + " stream: the fields before the first " + element.KsyId + " at construction, then each " + element.KsyId + " as it is given. Every element is checked against the grammar before it is written.");
        w.Line("[" + Names.GeneratedCode + "]");
        w.Open("public sealed partial class " + writerName);
        w.Line("private readonly " + Names.Stream + " __out;");
        for (int i = 0; i < elemArgTypes.Count; i++) w.Line("private readonly " + elemArgTypes[i] + " __a" + i + ";");
        for (int i = 0; i < elemHidden.Count; i++) w.Line("private readonly " + elemHidden[i] + " __h" + i + ";");
        w.Line("private readonly bool __le;");
        w.Line("private byte[] __buffer = new byte[1 << 16];");
        w.Line("private readonly " + Names.Validation + " __validation = new " + Names.Validation + "();");
        w.Line();
        w.Doc("Octets written so far.");
        w.Line("public long Position { get; private set; }");
        w.Line();
        w.Doc("Elements written so far.");
        w.Line("public long Count { get; private set; }");
        w.Line();
        w.Open("public " + writerName + "(" + string.Join(", ", new[] { Names.Stream + " output" }.Concat(ctorParams)) + ")");
        w.Line("__out = output ?? throw new " + Names.ArgumentNullException + "(nameof(output));");
        // Measure, then write the prefix with the same code.
        w.Line("var " + Names.W + " = " + Names.Writer + ".Measure();");
        var prefixArgs = string.Concat(prefix.Select(p => ", " + LowerFirst(p.Field.CsName)).Concat(rootParams.Select(p => ", " + p.Arg)));
        var elementOuts = string.Concat(elemArgTypes.Select((_, i) => ", out __a" + i)) + string.Concat(elemHidden.Select((_, i) => ", out __h" + i));
        w.Line("WritePrefix(ref " + Names.W + prefixArgs + ", out __le" + elementOuts + ");");
        w.Line("var __bytes = new byte[" + Names.W + ".Position];");
        w.Line(Names.W + " = new " + Names.Writer + "(__bytes);");
        w.Line("WritePrefix(ref " + Names.W + prefixArgs + ", out __le" + elementOuts + ");");
        w.Line("var __check = new " + Names.Reader + "(__bytes);");
        w.Line("var __v = new " + Names.Validation + "();");
        w.Line("new " + grammarName + "(" + rootParamArgs + ").ReadPrefix(ref __check, __v);");
        w.Line("var __errors = " + Names.WriteHelpers + ".Errors(__v.Violations);");
        w.Line("if (__errors is not null) throw new " + Names.Runtime + ".FgInvalidModelException(" + Lit(_root.KsyId) + ", __errors);");
        w.Line("__out.Write(__bytes, 0, __bytes.Length);");
        w.Line("Position = __bytes.Length;");
        w.Close();
        w.Line();
        // The prefix, and the arguments of every element (their types, no boxing).
        var elementOutParams = elemArgTypes.Select((type, i) => "out " + type + " a" + i).Concat(elemHidden.Select((type, i) => "out " + type + " h" + i));
        w.Open("private static void WritePrefix(" + string.Join(", ", new[] { "ref " + Names.Writer + " " + Names.W }.Concat(ctorParams).Concat(new[] { "out bool littleEndian" }).Concat(elementOutParams)) + ")");
        WriterPrefixScope? prevW = null;
        TypeModel? prevWT = null;
        for (int k = 0; k < s.Steps.Count; k++)
        {
            var t = _types[s.Steps[k].TypeCsName];
            var scope = new WriterPrefixScope(this, t, prefix);
            if (k == 0) foreach (var p in rootParams) w.Line("var " + p.Name + " = " + p.Arg + ";");
            if (prevWT is not null) EmitStepHidden(w, prevWT, prevW!, t);
            EmitEndianSet(w, t, scope, Names.W);
            foreach (var f in t.Fields)
            {
                if (f.Id == s.Steps[k].FieldId) break;
                EmitWriteFieldIf(w, t, scope, f, LowerFirst(f.CsName), new Dictionary<string, FieldModel>());
            }
            prevW = scope;
            prevWT = t;
        }
        var wargs = CallArgs(lastType, prevW!, element.CsName, streamField.Args);
        w.Line("littleEndian = " + Names.W + ".LittleEndian;");
        for (int i = 0; i < wargs.Count; i++) w.Line((i < elemArgTypes.Count ? "a" + i : "h" + (i - elemArgTypes.Count)) + " = " + wargs[i] + ";");
        w.Close();
        w.Line();
        var wcall = string.Join(", ", new[] { "ref " + Names.W }.Concat(elemArgTypes.Select((_, i) => "__a" + i)).Concat(elemHidden.Select((_, i) => "__h" + i)));
        var rcall = string.Join(", ", new[] { "ref __check", "__v", "false" }.Concat(elemArgTypes.Select((_, i) => "__a" + i)).Concat(elemHidden.Select((_, i) => "__h" + i))
            .Concat(element.Exports.Select(_ => "out _")));
        w.Doc("Writes one element. Throws FgInvalidModelException, writing nothing, when it would break a rule. A field marked -fg-handoff is left out: the caller writes that nested stream to the output next (Position counts this writer's octets only).");
        w.Open("public void Write(" + Q(element.CsName) + " element)");
        w.Line(Names.ArgumentNullException + ".ThrowIfNull(element);");
        w.Line("var " + Names.W + " = " + Names.Writer + ".Measure(__le);");
        w.Line(Names.W + ".StopAtHandoff = true;");
        w.Line("element.WriteCore(" + wcall + ");");
        w.Line(Names.W + ".AlignToByte();");
        w.Line("int __size = " + Names.W + ".Position;");
        w.Line("if (__buffer.Length < __size) __buffer = new byte[" + Names.Math + ".Max(__size, __buffer.Length * 2)];");
        w.Line("var __span = new " + Names.Span + "(__buffer, 0, __size);");
        w.Line(Names.W + " = new " + Names.Writer + "(__span, __le) { StopAtHandoff = true };");
        w.Line("element.WriteCore(" + wcall + ");");
        w.Line(Names.W + ".AlignToByte();");
        w.Line("var __check = new " + Names.Reader + "(__span, __le) { StopAtHandoff = true };");
        w.Line("var __v = __validation;");
        w.Line("__v.Clear();");
        w.Line("try { " + Q(element.CsName) + ".ReadCore(" + rcall + "); }");
        w.Line("catch (" + Names.Exception + " e) { __v.Add(e.ToViolation()); }");
        w.Line("if (__v.HasErrors) throw new " + Names.Runtime + ".FgInvalidModelException(" + Lit(element.KsyId) + ", " + Names.WriteHelpers + ".Errors(__v.Violations)!);");
        w.Line("__out.Write(__buffer, 0, __size);");
        w.Line("Position += __size;");
        w.Line("Count++;");
        w.Close();
        w.Close();
        return w.ToString();
    }

    /// <summary>The hidden values of a stream step, computed where its parent type would pass them.</summary>
    private void EmitStepHidden(SourceWriter w, TypeModel parent, IScope parentScope, TypeModel step)
    {
        var args = CallArgs(parent, parentScope, step.CsName, EquatableArray<ExprText>.Empty);
        var hidden = HiddenOf(step.CsName);
        for (int i = 0; i < hidden.Count; i++)
            w.Line("var " + HiddenName(hidden[i]) + " = " + args[i] + ";");
    }

    private static string LowerFirst(string s) => "@" + char.ToLowerInvariant(s[0]) + s.Substring(1);

    /// <summary>Names while the stream writer writes the prefix: the constructor's arguments.</summary>
    private sealed class WriterPrefixScope : ILocalScope
    {
        private readonly Emitter _e;
        private readonly TypeModel _t;
        private readonly List<(TypeModel Type, FieldModel Field)> _prefix;
        private readonly WriterScope _inner;

        public WriterPrefixScope(Emitter e, TypeModel t, List<(TypeModel, FieldModel)> prefix)
        {
            _e = e;
            _t = t;
            _prefix = prefix;
            _inner = new WriterScope(e, t);
        }

        public Dictionary<string, Typed> Locals => _inner.Locals;

        public Typed Name(TRef r)
        {
            if (_inner.Locals.TryGetValue(r.Id, out var v)) return v;
            var p = _prefix.FirstOrDefault(x => x.Type.CsName == _t.CsName && x.Field.Id == r.Id);
            if (p.Field is { Kind: FieldKind.Primitive } pf) return _e.PrimTyped(pf.Primitive!, pf.EnumCsName, LowerFirst(pf.CsName));
            if (p.Field is { } f) return _e.TypedOf(r.Type, LowerFirst(f.CsName));
            return _inner.Name(r);
        }

        public Typed Member(Typed target, TMember m) => _e.ModelMember(target, m);
        public Typed Path(TPath p) => _inner.Path(p);
        public Typed Late(TLate l) => _inner.Late(l);
        public Typed Box(TBox b) => _inner.Box(b);
        public Typed Io(RefKind kind) => _inner.Io(kind);
        public Typed CountWhere(TCount c) => _inner.CountWhere(c);
    }
}
