using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FormatGen.Generator.Syntax;

/// <summary>Text -> grammar tree. Reports what it cannot read; never throws.</summary>
internal sealed class KsyParser
{
    // Keys Kaitai documents that carry no meaning for readers and writers.
    private static readonly HashSet<string> MetaIgnored = new(StringComparer.Ordinal)
        { "title", "license", "ks-version", "ks-debug", "ks-opaque-types", "application", "file-extension", "xref", "tags" };
    private static readonly HashSet<string> TypeIgnored = new(StringComparer.Ordinal) { "doc-ref", "to-string" };
    private static readonly HashSet<string> AttrIgnored = new(StringComparer.Ordinal) { "doc-ref" };

    private readonly string _path;
    private readonly List<DiagInfo> _diags = new();

    private KsyParser(string path) => _path = path;

    public static GrammarFile Parse(string path, string? text)
    {
        var p = new KsyParser(path);
        if (text is null)
            return new GrammarFile(path, null, null, new[] { DiagInfo.Of(DiagnosticDescriptors.InvalidYaml, new Loc(path, 1, 1), "The grammar file could not be read") }.ToEquatable());
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            return new GrammarFile(path, null, null,
                new[] { DiagInfo.Of(DiagnosticDescriptors.InvalidYaml, new Loc(path, (int)e.Start.Line, (int)e.Start.Column), e.Message) }.ToEquatable());
        }
        // YamlDotNet throws these too for some broken documents (found by fuzzing): still the grammar's YAML, never the build's crash.
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return new GrammarFile(path, null, null,
                new[] { DiagInfo.Of(DiagnosticDescriptors.InvalidYaml, new Loc(path, 1, 1), "the YAML does not parse: " + e.Message) }.ToEquatable());
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            return new GrammarFile(path, null, null,
                new[] { DiagInfo.Of(DiagnosticDescriptors.InvalidYaml, new Loc(path, 1, 1), "A grammar is a YAML mapping") }.ToEquatable());
        return p.ParseFile(root);
    }

    private Loc L(YamlNode n) => new(_path, (int)n.Start.Line, (int)n.Start.Column);

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor d, YamlNode at, params string[] args) => _diags.Add(DiagInfo.Of(d, L(at), args));

    private GrammarFile ParseFile(YamlMappingNode root)
    {
        string? ns = null;
        string? id = null;
        EndianSpec? endian = null;
        Scalar? encoding = null, bitEndian = null;
        var imports = new List<Scalar>();
        if (Get(root, "meta") is YamlMappingNode meta)
        {
            foreach (var kv in meta.Children)
            {
                var key = KeyOf(kv.Key);
                switch (key)
                {
                    case "id": id = Text(kv.Value); break;
                    case "endian": endian = ParseEndian(kv.Value); break;
                    case "encoding": encoding = Sc(kv.Value); break;
                    case "bit-endian": bitEndian = BitEndian(kv.Value); break;
                    case "-fg-namespace": ns = Text(kv.Value); break;
                    case "imports":
                        foreach (var item in List(kv.Value, "meta/imports", "a list of grammar paths"))
                            if (Sc(item) is { } imp) imports.Add(imp);
                        break;
                    default:
                        if (!MetaIgnored.Contains(key) && !IgnoredExtension(key, kv.Key))
                            Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "meta/" + key, "");
                        break;
                }
            }
        }
        if (id is null)
        {
            Report(DiagnosticDescriptors.MissingMetaId, root);
            return new GrammarFile(_path, ns, null, _diags.ToEquatable(), imports.ToEquatable());
        }
        var type = ParseType(id, root, isRoot: true, endian) with { Encoding = encoding, BitEndian = bitEndian };
        return new GrammarFile(_path, ns, type, _diags.ToEquatable(), imports.ToEquatable());
    }

    private bool IgnoredExtension(string key, YamlNode at)
    {
        if (!key.StartsWith("-", StringComparison.Ordinal)) return false;
        if (key.StartsWith("-fg-", StringComparison.Ordinal))
        {
            Report(DiagnosticDescriptors.UnsupportedKey, at, key, " here");
            return true;
        }
        return true; // other tools' extensions: Kaitai ignores them, so do we
    }

    private TypeSpec ParseType(string id, YamlMappingNode node, bool isRoot, EndianSpec? rootEndian)
    {
        string? doc = null;
        EndianSpec? endian = rootEndian;
        Scalar? encoding = null, bitEndian = null;
        var seq = new List<AttrSpec>();
        var pars = new List<ParamSpec>();
        var inst = new List<InstanceSpec>();
        var types = new List<TypeSpec>();
        var enums = new List<EnumSpec>();
        var checks = new List<CheckSpec>();
        foreach (var kv in node.Children)
        {
            var key = KeyOf(kv.Key);
            switch (key)
            {
                case "meta" when !isRoot:
                    if (kv.Value is YamlMappingNode m)
                        foreach (var mkv in m.Children)
                        {
                            var mk = KeyOf(mkv.Key);
                            if (mk == "endian") endian = ParseEndian(mkv.Value);
                            else if (mk == "encoding") encoding = Sc(mkv.Value);
                            else if (mk == "bit-endian") bitEndian = BitEndian(mkv.Value);
                            else if (!MetaIgnored.Contains(mk) && !IgnoredExtension(mk, mkv.Key))
                                Report(DiagnosticDescriptors.UnsupportedKey, mkv.Key, "meta/" + mk, " in a nested type");
                        }
                    break;
                case "meta": break;
                case "doc": doc = Text(kv.Value); break;
                case "seq":
                    foreach (var item in List(kv.Value, "seq", "a list of fields"))
                        if (item is YamlMappingNode am)
                        {
                            // A field without an id is Kaitai's _unnamedN, N its place in the seq.
                            var a = ParseAttr(am);
                            seq.Add(a.Id.Length == 0 ? a with { Id = "_unnamed" + seq.Count.ToString(CultureInfo.InvariantCulture) } : a);
                        }
                        else Report(DiagnosticDescriptors.BadValue, item, "seq", "each entry is a mapping");
                    break;
                case "params":
                    foreach (var item in List(kv.Value, "params", "a list of parameters"))
                        if (item is YamlMappingNode pm) pars.Add(ParseParam(pm));
                        else Report(DiagnosticDescriptors.BadValue, item, "params", "each entry is a mapping");
                    break;
                case "instances":
                    foreach (var ikv in Map(kv.Value, "instances", "a mapping of names to instances")) inst.Add(ParseInstance(KeyOf(ikv.Key), ikv.Key, ikv.Value));
                    break;
                case "types":
                    foreach (var tkv in Map(kv.Value, "types", "a mapping of names to types"))
                        if (tkv.Value is YamlMappingNode tv) types.Add(ParseType(KeyOf(tkv.Key), tv, false, null));
                        else Report(DiagnosticDescriptors.BadValue, tkv.Value, "types/" + KeyOf(tkv.Key), "a type is a mapping");
                    break;
                case "enums":
                    foreach (var ekv in Map(kv.Value, "enums", "a mapping of names to enums")) enums.Add(ParseEnum(KeyOf(ekv.Key), ekv.Key, ekv.Value));
                    break;
                case "-fg-checks":
                    foreach (var item in List(kv.Value, "-fg-checks", "a list of checks"))
                        if (item is YamlMappingNode cm) { var c = ParseCheck(cm); if (c is not null) checks.Add(c); }
                        else Report(DiagnosticDescriptors.BadValue, item, "-fg-checks", "each check is a mapping");
                    break;
                default:
                    if (!TypeIgnored.Contains(key) && !IgnoredExtension(key, kv.Key))
                        Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, key, "");
                    break;
            }
        }
        return new TypeSpec(id, L(node), doc, endian, seq.ToEquatable(), pars.ToEquatable(), inst.ToEquatable(),
            types.ToEquatable(), enums.ToEquatable(), checks.ToEquatable(), encoding, bitEndian);
    }

    private EndianSpec? ParseEndian(YamlNode n)
    {
        if (n is YamlScalarNode s)
        {
            if (s.Value is "le" or "be") return new EndianSpec(s.Value, null, EquatableArray<EndianCase>.Empty, L(n));
            Report(DiagnosticDescriptors.BadValue, n, "endian", "le or be");
            return null;
        }
        if (n is YamlMappingNode m)
        {
            Scalar? on = null;
            var cases = new List<EndianCase>();
            foreach (var kv in m.Children)
            {
                var key = KeyOf(kv.Key);
                if (key == "switch-on") on = Sc(kv.Value);
                else if (key == "cases")
                {
                    foreach (var ckv in Map(kv.Value, "endian/cases", "a mapping of keys to le or be"))
                        if (Sc(ckv.Key) is { } ck) cases.Add(new EndianCase(ck, Text(ckv.Value) ?? ""));
                }
                else Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "endian/" + key, "");
            }
            if (on is null) { Report(DiagnosticDescriptors.MissingKey, n, "A calculated endian", "switch-on"); return null; }
            return new EndianSpec(null, on, cases.ToEquatable(), L(n));
        }
        Report(DiagnosticDescriptors.BadValue, n, "endian", "le, be or switch-on");
        return null;
    }

    private AttrSpec ParseAttr(YamlMappingNode n) => ParseAttr(n, null, out _, out _);

    /// <summary>A seq field, or (with <paramref name="instanceId"/>) what a parse instance reads, with its pos and io.</summary>
    private AttrSpec ParseAttr(YamlMappingNode n, string? instanceId, out Scalar? pos, out Scalar? io)
    {
        pos = null;
        io = null;
        string? id = null, doc = null, repeat = null, rule = null, severity = null;
        Scalar? type = null, size = null, repeatExpr = null, repeatUntil = null, cond = null, enumName = null, expect = null, found = null;
        Scalar? terminator = null, padRight = null, encoding = null, process = null;
        bool? include = null, consume = null, eosError = null;
        Loc? repeatLoc = null;
        SwitchSpec? sw = null;
        ValidSpec? valid = null;
        bool sizeEos = false, stream = false, limit = false, handoff = false;
        var contents = new List<Scalar>();
        foreach (var kv in n.Children)
        {
            var key = KeyOf(kv.Key);
            switch (key)
            {
                case "id" when instanceId is null: id = Text(kv.Value); break;
                case "doc": doc = Text(kv.Value); break;
                case "type":
                    if (kv.Value is YamlMappingNode tm) sw = ParseSwitch(tm);
                    else type = Sc(kv.Value);
                    break;
                case "size": size = Sc(kv.Value); break;
                case "size-eos": sizeEos = Text(kv.Value) == "true"; break;
                case "repeat": repeat = Text(kv.Value); repeatLoc = L(kv.Value); break;
                case "repeat-expr": repeatExpr = Sc(kv.Value); break;
                case "repeat-until": repeatUntil = Sc(kv.Value); break;
                case "if": cond = Sc(kv.Value); break;
                case "enum": enumName = Sc(kv.Value); break;
                case "valid": valid = ParseValid(kv.Value); break;
                case "contents": contents.AddRange(ParseContents(kv.Value)); break;
                case "-fg-rule": rule = Text(kv.Value); break;
                case "-fg-severity": severity = Text(kv.Value); break;
                case "-fg-stream": stream = Text(kv.Value) == "true"; break;
                case "-fg-expect": expect = Sc(kv.Value); break;
                case "-fg-found": found = Sc(kv.Value); break;
                case "-fg-limit": limit = Text(kv.Value) == "true"; break;
                case "-fg-handoff": handoff = Text(kv.Value) == "true"; break;
                case "terminator": terminator = Sc(kv.Value); break;
                case "pad-right": padRight = Sc(kv.Value); break;
                case "encoding": encoding = Sc(kv.Value); break;
                case "include": include = Flag(kv.Value, key); break;
                case "consume": consume = Flag(kv.Value, key); break;
                case "eos-error": eosError = Flag(kv.Value, key); break;
                case "process": process = Sc(kv.Value); break;
                case "pos" when instanceId is not null: pos = Sc(kv.Value); break;
                case "io" when instanceId is not null: io = Sc(kv.Value); break;
                case "id" when instanceId is not null:
                    Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "instances/" + instanceId + "/id", " (an instance is named by its key)");
                    break;
                default:
                    if (!AttrIgnored.Contains(key) && !IgnoredExtension(key, kv.Key))
                        Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, key, "");
                    break;
            }
        }
        if (instanceId is not null) id = instanceId;
        return new AttrSpec(id ?? "", L(n), doc, type, sw, size, sizeEos, repeat, repeatLoc, repeatExpr, repeatUntil, cond,
            contents.ToEquatable(), valid, enumName, rule, severity, stream, expect, found, limit,
            terminator is null && padRight is null && include is null && consume is null && eosError is null ? null
                : new TermSpec(terminator, include ?? false, consume ?? true, eosError ?? true, padRight, L(n)),
            encoding, process, handoff);
    }

    private IEnumerable<Scalar> ParseContents(YamlNode n)
    {
        if (n is YamlScalarNode s)
        {
            foreach (var b in System.Text.Encoding.UTF8.GetBytes(s.Value ?? ""))
                yield return new Scalar(b.ToString(CultureInfo.InvariantCulture), L(n));
            yield break;
        }
        foreach (var item in Items(n))
        {
            // A string (quoted, or any scalar that is not a number, as Kaitai reads [NES, 0x1a]) gives its UTF-8 octets.
            if (item is YamlScalarNode si && (si.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted || !TryInt(si.Value ?? "", out _)))
                foreach (var b in System.Text.Encoding.UTF8.GetBytes(si.Value ?? ""))
                    yield return new Scalar(b.ToString(CultureInfo.InvariantCulture), L(item));
            else if (Sc(item) is { } sc) yield return sc;
        }
    }

    private SwitchSpec? ParseSwitch(YamlMappingNode n)
    {
        Scalar? on = null;
        var cases = new List<CaseSpec>();
        foreach (var kv in n.Children)
        {
            var key = KeyOf(kv.Key);
            if (key == "switch-on") on = Sc(kv.Value);
            else if (key == "cases")
            {
                foreach (var ckv in Map(kv.Value, "type/cases", "a mapping of keys to types"))
                    if (Sc(ckv.Key) is { } ck && Sc(ckv.Value) is { } cv) cases.Add(new CaseSpec(ck, cv));
            }
            else Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "type/" + key, "");
        }
        if (on is null) { Report(DiagnosticDescriptors.MissingKey, n, "A switch type", "switch-on"); return null; }
        return new SwitchSpec(on, cases.ToEquatable(), L(n));
    }

    private ValidSpec ParseValid(YamlNode n)
    {
        if (n is YamlScalarNode) return new ValidSpec(L(n), Sc(n), null, null, EquatableArray<Scalar>.Empty, false, null);
        Scalar? eq = null, min = null, max = null, expr = null;
        var anyOf = new List<Scalar>();
        bool inEnum = false;
        if (n is YamlMappingNode m)
            foreach (var kv in m.Children)
            {
                var key = KeyOf(kv.Key);
                switch (key)
                {
                    case "eq": eq = Sc(kv.Value); break;
                    case "min": min = Sc(kv.Value); break;
                    case "max": max = Sc(kv.Value); break;
                    case "expr": expr = Sc(kv.Value); break;
                    case "in-enum": inEnum = Text(kv.Value) == "true"; break;
                    case "any-of": foreach (var item in List(kv.Value, "valid/any-of", "a list of values")) if (Sc(item) is { } s) anyOf.Add(s); break;
                    default: Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "valid/" + key, ""); break;
                }
            }
        else Report(DiagnosticDescriptors.BadValue, n, "valid", "a value or a mapping");
        return new ValidSpec(L(n), eq, min, max, anyOf.ToEquatable(), inEnum, expr);
    }

    private ParamSpec ParseParam(YamlMappingNode n)
    {
        string? id = null, doc = null;
        Scalar? type = null, enumName = null;
        foreach (var kv in n.Children)
        {
            var key = KeyOf(kv.Key);
            if (key == "id") id = Text(kv.Value);
            else if (key == "type") type = Sc(kv.Value);
            else if (key == "enum") enumName = Sc(kv.Value);
            else if (key == "doc") doc = Text(kv.Value);
            else if (key == "doc-ref") { }
            else if (!IgnoredExtension(key, kv.Key)) Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "params/" + key, "");
        }
        if (id is null) Report(DiagnosticDescriptors.MissingKey, n, "A parameter", "id");
        if (type is null) Report(DiagnosticDescriptors.MissingKey, n, "A parameter", "type");
        return new ParamSpec(id ?? "_unnamed", type ?? new Scalar("u4", L(n)), L(n), doc, enumName);
    }

    private static readonly HashSet<string> ValueInstanceKeys = new(StringComparer.Ordinal) { "value", "enum", "doc", "doc-ref" };

    private InstanceSpec ParseInstance(string id, YamlNode keyNode, YamlNode n)
    {
        if (n is not YamlMappingNode m)
        {
            Report(DiagnosticDescriptors.BadValue, n, "instances/" + id, "an instance is a mapping");
            return new InstanceSpec(id, L(keyNode), new Scalar("0", L(keyNode)), null, null);
        }
        // Without 'value' it reads, as a seq field does, from 'pos' of its stream ('io').
        if (!m.Children.Keys.Any(k => KeyOf(k) == "value"))
        {
            var attr = ParseAttr(m, id, out var pos, out var io);
            return new InstanceSpec(id, L(keyNode), null, null, attr.Doc, attr, pos, io);
        }
        Scalar? value = null, enumName = null, cond = null;
        string? doc = null;
        foreach (var kv in m.Children)
        {
            var key = KeyOf(kv.Key);
            switch (key)
            {
                case "value": value = Sc(kv.Value); break;
                case "enum": enumName = Sc(kv.Value); break;
                case "if": cond = Sc(kv.Value); break;
                case "doc": doc = Text(kv.Value); break;
                default:
                    if (!AttrIgnored.Contains(key) && !IgnoredExtension(key, kv.Key))
                        Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "instances/" + id + "/" + key, key is "pos" or "io" or "type" or "size" ? " with 'value'" : "");
                    break;
            }
        }
        return new InstanceSpec(id, L(keyNode), value ?? new Scalar("0", L(keyNode)), enumName, doc, If: cond);
    }

    private EnumSpec ParseEnum(string id, YamlNode keyNode, YamlNode n)
    {
        var members = new List<EnumMemberSpec>();
        if (n is YamlMappingNode m)
            foreach (var kv in m.Children)
            {
                var keyText = Text(kv.Key) ?? "";
                bool negative = keyText.StartsWith("-", StringComparison.Ordinal);
                if (!TryInt(negative ? keyText.Substring(1) : keyText, out ulong value) || negative && value > (ulong)long.MaxValue + 1)
                {
                    Report(DiagnosticDescriptors.BadValue, kv.Key, "enums/" + id, "'" + keyText + "' is not an integer");
                    continue;
                }
                if (negative) value = unchecked((ulong)-(long)value);
                string? name = null, doc = null;
                if (kv.Value is YamlScalarNode s) name = s.Value;
                else if (kv.Value is YamlMappingNode vm)
                {
                    name = Text(Get(vm, "id"));
                    doc = Text(Get(vm, "doc"));
                }
                if (name is null) { Report(DiagnosticDescriptors.MissingKey, kv.Value, "An enum member", "id"); continue; }
                members.Add(new EnumMemberSpec(value, name, doc, L(kv.Key), negative));
            }
        return new EnumSpec(id, L(keyNode), members.ToEquatable());
    }

    private CheckSpec? ParseCheck(YamlMappingNode n)
    {
        string? rule = null, doc = null, severity = null;
        Scalar? expr = null, expect = null, found = null;
        foreach (var kv in n.Children)
        {
            var key = KeyOf(kv.Key);
            switch (key)
            {
                case "rule": rule = Text(kv.Value); break;
                case "expr": expr = Sc(kv.Value); break;
                case "expect": expect = Sc(kv.Value); break;
                case "found": found = Sc(kv.Value); break;
                case "doc": doc = Text(kv.Value); break;
                case "severity": severity = Text(kv.Value); break;
                default: Report(DiagnosticDescriptors.UnsupportedKey, kv.Key, "-fg-checks/" + key, ""); break;
            }
        }
        if (rule is null) { Report(DiagnosticDescriptors.MissingKey, n, "A check", "rule"); return null; }
        if (expr is null) { Report(DiagnosticDescriptors.MissingKey, n, "A check", "expr"); return null; }
        severity ??= "error";
        if (severity is not ("error" or "warning" or "info"))
        {
            Report(DiagnosticDescriptors.BadValue, n, "severity", "error, warning or info");
            severity = "error";
        }
        return new CheckSpec(rule, expr, severity, doc, L(n), expect, found);
    }

    public static bool TryInt(string text, out ulong value)
    {
        text = text.Replace("_", "");
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(text.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
        if (text.StartsWith("0b", StringComparison.OrdinalIgnoreCase) || text.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            // Binary and octal, as Kaitai writes them (0b1010, 0o17).
            uint radix = char.ToLowerInvariant(text[1]) == 'b' ? 2u : 8u;
            value = 0;
            foreach (var c in text.Substring(2))
            {
                if (c < '0' || c - '0' >= radix) return false;
                if (value > (ulong.MaxValue - (ulong)(c - '0')) / radix) return false;
                value = value * radix + (ulong)(c - '0');
            }
            return text.Length > 2;
        }
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string KeyOf(YamlNode n) => (n as YamlScalarNode)?.Value ?? "";

    private Scalar? BitEndian(YamlNode n)
    {
        var s = Sc(n);
        if (s is { Text: "le" or "be" }) return s;
        if (s is not null) Report(DiagnosticDescriptors.BadValue, n, "bit-endian", "le or be");
        return null;
    }

    /// <summary>A true/false key; anything else is reported.</summary>
    private bool? Flag(YamlNode n, string key)
    {
        switch (Text(n))
        {
            case "true": return true;
            case "false": return false;
        }
        Report(DiagnosticDescriptors.BadValue, n, key, "true or false");
        return null;
    }

    private static string? Text(YamlNode? n) => (n as YamlScalarNode)?.Value;

    private Scalar? Sc(YamlNode? n)
    {
        if (n is YamlScalarNode s) return new Scalar(s.Value ?? "", L(n));
        if (n is not null) Report(DiagnosticDescriptors.BadValue, n, "value", "a scalar is expected here");
        return null;
    }

    private static YamlNode? Get(YamlMappingNode m, string key)
    {
        foreach (var kv in m.Children)
            if (KeyOf(kv.Key) == key) return kv.Value;
        return null;
    }

    private static IEnumerable<YamlNode> Items(YamlNode n) => n is YamlSequenceNode s ? s.Children : Enumerable.Empty<YamlNode>();

    /// <summary>A YAML list where the grammar needs one; anything else is reported (an empty list is fine).</summary>
    private IEnumerable<YamlNode> List(YamlNode n, string key, string what)
    {
        if (n is YamlSequenceNode s) return s.Children;
        if (!(n is YamlScalarNode { Value: null or "" })) Report(DiagnosticDescriptors.BadValue, n, key, what + " is expected here");
        return Enumerable.Empty<YamlNode>();
    }

    /// <summary>A YAML mapping where the grammar needs one; anything else is reported.</summary>
    private IEnumerable<KeyValuePair<YamlNode, YamlNode>> Map(YamlNode n, string key, string what)
    {
        if (n is YamlMappingNode m) return m.Children;
        if (!(n is YamlScalarNode { Value: null or "" })) Report(DiagnosticDescriptors.BadValue, n, key, what + " is expected here");
        return Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>();
    }
}
