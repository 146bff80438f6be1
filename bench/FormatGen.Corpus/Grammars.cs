using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FormatGen.Corpus;

/// <summary>What the corpus tool reads from a grammar's YAML itself: its id, file extensions, leading magic, and whether its root takes params.</summary>
internal sealed record GrammarInfo(
    string Path,
    string Rel,
    string? Id,
    IReadOnlyList<string> Extensions,
    byte[]? Magic,
    bool RootParams,
    string? YamlError)
{
    public static GrammarInfo Load(string path, string corpusRoot)
    {
        var rel = System.IO.Path.GetRelativePath(corpusRoot, path).Replace('\\', '/');
        try
        {
            var stream = new YamlStream();
            using (var reader = new StringReader(File.ReadAllText(path))) stream.Load(reader);
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
                return new GrammarInfo(path, rel, null, Array.Empty<string>(), null, false, "not a YAML mapping");
            var meta = Get(root, "meta") as YamlMappingNode;
            var id = meta is null ? null : (Get(meta, "id") as YamlScalarNode)?.Value;
            var extensions = new List<string>();
            switch (meta is null ? null : Get(meta, "file-extension"))
            {
                case YamlScalarNode s when !string.IsNullOrWhiteSpace(s.Value):
                    extensions.Add(s.Value!.Trim().TrimStart('.'));
                    break;
                case YamlSequenceNode list:
                    extensions.AddRange(list.Children.OfType<YamlScalarNode>().Select(e => e.Value?.Trim().TrimStart('.') ?? "").Where(e => e.Length > 0));
                    break;
            }
            var rootParams = Get(root, "params") is YamlSequenceNode p && p.Children.Count > 0;
            return new GrammarInfo(path, rel, id, extensions, LeadingMagic(root, root, 0), rootParams, null);
        }
        catch (Exception e) when (e is YamlException or IOException or InvalidOperationException or ArgumentException)
        {
            return new GrammarInfo(path, rel, null, Array.Empty<string>(), null, false, e.Message);
        }
    }

    private static YamlNode? Get(YamlMappingNode m, string key)
        => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    /// <summary>
    /// The octets every input starts with, when the grammar says so: the
    /// <c>contents</c> of the first seq field, following a first field of a
    /// user type into that type's first field (gif's header, PE's MZ stub).
    /// </summary>
    private static byte[]? LeadingMagic(YamlMappingNode root, YamlMappingNode type, int depth)
    {
        if (depth > 4 || Get(type, "seq") is not YamlSequenceNode seq || seq.Children.Count == 0 || seq.Children[0] is not YamlMappingNode first) return null;
        if (Get(first, "if") is not null || Get(first, "repeat") is not null) return null;
        if (Get(first, "contents") is { } contents) return Contents(contents);
        if (Get(first, "type") is YamlScalarNode { Value: { } typeName } && Get(first, "size") is null)
        {
            // A local type of this type or of the root (no imports, no paths).
            foreach (var scope in new[] { type, root })
                if (Get(scope, "types") is YamlMappingNode types && Get(types, typeName) is YamlMappingNode sub)
                    return LeadingMagic(root, sub, depth + 1);
        }
        return null;
    }

    private static byte[]? Contents(YamlNode node)
    {
        var bytes = new List<byte>();
        bool Add(YamlNode n)
        {
            if (n is not YamlScalarNode { Value: { } v } s) return false;
            if (s.Style == ScalarStyle.Plain && Integer(v) is { } i)
            {
                if (i is < 0 or > 255) return false;
                bytes.Add((byte)i);
                return true;
            }
            bytes.AddRange(Encoding.UTF8.GetBytes(v));
            return true;
        }
        if (node is YamlSequenceNode list)
        {
            foreach (var e in list.Children)
                if (!Add(e)) return null;
        }
        else if (!Add(node)) return null;
        return bytes.Count > 0 ? bytes.ToArray() : null;
    }

    private static long? Integer(string v)
    {
        v = v.Replace("_", "", StringComparison.Ordinal);
        if (v.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h) ? h : null;
        if (v.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            try { return Convert.ToInt64(v[2..], 2); }
            catch (FormatException) { return null; }
        }
        if (v.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            try { return Convert.ToInt64(v[2..], 8); }
            catch (FormatException) { return null; }
        }
        return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d) ? d : null;
    }
}
