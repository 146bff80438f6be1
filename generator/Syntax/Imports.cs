using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;

namespace FormatGen.Generator.Syntax;

/// <summary>
/// Finds the grammars a grammar imports (meta/imports) among the project's
/// AdditionalFiles, as Kaitai does: "name" and "../dir/name" relative to the
/// importing file, "/dir/name" relative to an import root (here: any
/// AdditionalFile whose path ends with that). A missing import is reported by
/// the grammar that names it; a cycle once, by the first grammar of it.
/// </summary>
internal static class Imports
{
    public static GrammarUnit Resolve(GrammarFile main, ImmutableArray<GrammarFile> all)
    {
        if (main.Imports.Count == 0) return new GrammarUnit(main, EquatableArray<GrammarFile>.Empty, EquatableArray<DiagInfo>.Empty, false);
        var byPath = new Dictionary<string, GrammarFile>(StringComparer.Ordinal);
        foreach (var f in all) byPath[Normalize(f.Path)] = f;
        var diags = new List<DiagInfo>();
        bool blocked = false;
        var order = new List<GrammarFile>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var stack = new List<(GrammarFile File, Scalar? Via)>();

        void Visit(GrammarFile f, Scalar? via)
        {
            var key = Normalize(f.Path);
            stack.Add((f, via));
            foreach (var imp in f.Imports)
            {
                var (target, looked) = Find(f, imp.Text, byPath);
                if (target is null)
                {
                    if (ReferenceEquals(f, main)) diags.Add(DiagInfo.Of(DiagnosticDescriptors.MissingImport, imp.Loc, imp.Text, looked));
                    else blocked = true; // that grammar's own unit reports it
                    continue;
                }
                var tk = Normalize(target.Path);
                int onStack = stack.FindIndex(x => Normalize(x.File.Path) == tk);
                if (onStack >= 0)
                {
                    var cycle = stack.Skip(onStack).Select(x => x.File).ToList();
                    // Reported once, by the grammar of the cycle whose path sorts first; the others are left out.
                    var first = cycle.OrderBy(x => Normalize(x.Path), StringComparer.Ordinal).First();
                    if (ReferenceEquals(first, main) && onStack == 0)
                    {
                        var names = cycle.Select(x => Path.GetFileName(x.Path)).Concat(new[] { Path.GetFileName(main.Path) });
                        var at = stack.Count > 1 ? stack[1].Via! : imp;
                        diags.Add(DiagInfo.Of(DiagnosticDescriptors.ImportCycle, at.Loc, string.Join(" -> ", names)));
                    }
                    else blocked = true;
                    continue;
                }
                if (done.Contains(tk)) continue;
                Visit(target, imp);
            }
            stack.RemoveAt(stack.Count - 1);
            done.Add(key);
            if (!ReferenceEquals(f, main)) order.Add(f);
        }

        Visit(main, null);
        return new GrammarUnit(main, order.ToEquatable(), diags.ToEquatable(), blocked);
    }

    internal static (GrammarFile? File, string Looked) Find(GrammarFile from, string import, Dictionary<string, GrammarFile> byPath)
    {
        var name = import.Trim();
        if (name.StartsWith("/", StringComparison.Ordinal))
        {
            var suffix = name + ".ksy";
            var found = byPath.Where(kv => kv.Key.EndsWith(suffix, StringComparison.Ordinal)).ToList();
            return (found.Count >= 1 ? found.OrderBy(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Value : null,
                "a file whose path ends with " + suffix);
        }
        var dir = Path.GetDirectoryName(from.Path) ?? "";
        var path = Normalize(Path.Combine(dir, name + ".ksy"));
        return (byPath.TryGetValue(path, out var f) ? f : null, path);
    }

    /// <summary>A path with '/' separators and no '.' or '..' steps.</summary>
    public static string Normalize(string path)
    {
        var parts = new List<string>();
        var p = path.Replace('\\', '/');
        bool rooted = p.StartsWith("/", StringComparison.Ordinal);
        foreach (var part in p.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == ".." && parts.Count > 0 && parts[parts.Count - 1] != "..") { parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return (rooted ? "/" : "") + string.Join("/", parts);
    }
}
