using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Corpus;

/// <summary>A file of this machine a grammar may be for: matched by its extension, its leading magic, or both.</summary>
internal sealed record Candidate(string Path, long Size, bool ByExtension, bool ByMagic);

/// <summary>
/// Finds the real files each grammar is for: one walk over the given roots
/// (symbolic links, hidden entries, empty files, files over the size limit
/// and anything that may hold a secret are skipped), each file matched by
/// the grammars' <c>meta/file-extension</c> lists and leading magic.
/// </summary>
internal static class MachineFiles
{
    /// <summary>Where ordinary files of this machine are: system folders, the .NET SDK (under /usr), package caches and toolchains.</summary>
    public static IReadOnlyList<string> DefaultRoots(string repoRoot) => new[]
    {
        "/usr", "/etc", "/var", "/opt", "/home", "/srv", "/boot",
        "/root/.nuget/packages", "/root/.dotnet", "/root/.pyenv", "/root/.rustup", "/root/.cargo/registry",
        Path.Combine(repoRoot, ".ci", "kaitai", "node_modules"),
    };

    /// <summary>Never read: password and key files, private key folders.</summary>
    private static readonly string[] SecretPaths = { "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssh", "/etc/ssl/private", "/etc/sudoers", "/etc/sudoers.d" };

    private static bool Secret(string path, string name)
        => SecretPaths.Any(s => path == s || path.StartsWith(s + "/", StringComparison.Ordinal))
           || name.EndsWith(".key", StringComparison.OrdinalIgnoreCase) || name.EndsWith("_key", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("id_", StringComparison.Ordinal) || name.Contains("credential", StringComparison.OrdinalIgnoreCase)
           || name.Contains("secret", StringComparison.OrdinalIgnoreCase) || name.Contains("token", StringComparison.OrdinalIgnoreCase);

    public sealed class Stats
    {
        public long Files;
        public long Skipped;
        public long Matched;
    }

    /// <summary>For each grammar (by index), every file matching it.</summary>
    public static Dictionary<int, List<Candidate>> Find(IReadOnlyList<GrammarInfo> grammars, IEnumerable<string> roots, long maxSize, Stats stats)
    {
        var byExtension = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
        var magics = new List<(int Grammar, byte[] Magic)>();
        for (int i = 0; i < grammars.Count; i++)
        {
            foreach (var ext in grammars[i].Extensions.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!byExtension.TryGetValue(ext, out var list)) byExtension[ext] = list = new List<int>();
                list.Add(i);
            }
            // A magic of under four octets, or mostly zeros, says too little to pick files out by
            // (gzip's 1f 8b, ico's 00 00 01 00): those grammars need the extension.
            if (grammars[i].Magic is { Length: >= 4 } m && m.Count(b => b == 0) * 2 < m.Length) magics.Add((i, m));
        }
        int header = magics.Count == 0 ? 0 : Math.Min(64, magics.Max(m => m.Magic.Length));
        var found = new Dictionary<int, List<Candidate>>();
        var buffer = new byte[Math.Max(header, 1)];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint | FileAttributes.Hidden,
            ReturnSpecialDirectories = false,
        };
        var stack = new Stack<string>(roots.Where(Directory.Exists).Reverse());
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            if (!seen.Add(dir) || Secret(dir, Path.GetFileName(dir))) continue;
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                continue;
            }
            var subdirs = new List<string>();
            foreach (var entry in entries)
            {
                if (entry is DirectoryInfo d)
                {
                    subdirs.Add(d.FullName);
                    continue;
                }
                if (entry is not FileInfo f) continue;
                stats.Files++;
                long size;
                try { size = f.Length; }
                catch (IOException) { stats.Skipped++; continue; }
                // Empty files, and FIFOs, sockets and devices (length 0): never opened.
                if (size <= 0 || size > maxSize || Secret(f.FullName, f.Name))
                {
                    stats.Skipped++;
                    continue;
                }
                var grammarsByExt = new HashSet<int>();
                var name = f.Name;
                for (int dot = name.IndexOf('.'); dot >= 0 && dot < name.Length - 1; dot = name.IndexOf('.', dot + 1))
                    if (byExtension.TryGetValue(name[(dot + 1)..], out var list))
                        grammarsByExt.UnionWith(list);
                var grammarsByMagic = new HashSet<int>();
                if (header > 0)
                {
                    int n = ReadHeader(f.FullName, buffer);
                    foreach (var (g, magic) in magics)
                        if (n >= magic.Length && buffer.AsSpan(0, magic.Length).SequenceEqual(magic))
                            grammarsByMagic.Add(g);
                }
                foreach (var g in grammarsByExt.Union(grammarsByMagic))
                {
                    if (!found.TryGetValue(g, out var list)) found[g] = list = new List<Candidate>();
                    list.Add(new Candidate(f.FullName, size, grammarsByExt.Contains(g), grammarsByMagic.Contains(g)));
                    stats.Matched++;
                }
            }
            for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
        }
        return found;
    }

    private static int ReadHeader(string path, byte[] buffer)
    {
        try
        {
            using SafeFileHandle h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return RandomAccess.Read(h, buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> files. A grammar that lists file
    /// extensions is for files with those names (a file with the magic and
    /// another name is another format sharing it: RIFF's WAV and WebP for
    /// AVI), those with the magic too first; a grammar without extensions,
    /// for files with its magic. Within each, a stable spread over the
    /// machine (ordered by a hash of the path), one file per distinct
    /// (size, name) so copies of one file count once.
    /// </summary>
    public static List<Candidate> Pick(GrammarInfo grammar, IEnumerable<Candidate> candidates, int limit)
    {
        var picked = new List<Candidate>();
        var copies = new HashSet<(long, string)>();
        foreach (var c in candidates
                     .Where(c => grammar.Extensions.Count == 0 ? c.ByMagic : c.ByExtension)
                     .OrderBy(c => c.ByMagic ? 0 : 1)
                     .ThenBy(c => Fnv(c.Path))
                     .ThenBy(c => c.Path, StringComparer.Ordinal))
        {
            if (picked.Count >= limit) break;
            if (!copies.Add((c.Size, Path.GetFileName(c.Path)))) continue;
            picked.Add(c);
        }
        return picked;
    }

    private static ulong Fnv(string s)
    {
        ulong h = 14695981039346656037;
        foreach (var ch in s)
        {
            h ^= ch;
            h *= 1099511628211;
        }
        return h;
    }
}
