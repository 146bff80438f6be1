using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using FormatGen.Tests;

namespace FormatGen.Corpus;

/// <summary>
/// The corpus measurement (docs/corpus.md):
/// <code>
/// dotnet run -c Release --project bench/FormatGen.Corpus -- CORPUS_DIR [options]
/// </code>
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: FormatGen.Corpus CORPUS_DIR [options]
          every .ksy under CORPUS_DIR: Kaitai's compiler, our generator, then real files of this machine through both readers.
          --out DIR               where results.json, grammars.tsv, files.tsv, summary.md go (default: artifacts/corpus)
          --files N               real files per grammar, at most (default 20; 0: no files)
          --max-file-size BYTES   larger files are skipped (default 64M; K, M, G suffixes)
          --roots DIR:DIR...      where to look for files (default: /usr /etc /var /opt /home /srv /boot, package caches, the SDK)
          --filter TEXT           only grammars whose path under CORPUS_DIR contains TEXT (repeatable)
          --timeout SECONDS       a worker silent that long is killed (default 180)
          --jobs N                grammars at once (default 1)
          --memory BYTES          GC heap limit of each worker, and node's old space (default 3G)
          --label TEXT            what the corpus is (e.g. its repository and commit), for the record
          --keep-sources          keep the generated C# of every grammar under OUT/generated (always kept when it does not compile)
        """;

    private sealed class Options
    {
        public string Corpus = "";
        public string Out = "";
        public int FilesPerGrammar = 20;
        public long MaxFileSize = 64L << 20;
        public List<string> Roots = new();
        public List<string> Filters = new();
        public TimeSpan Timeout = TimeSpan.FromSeconds(180);
        public int Jobs = 1;
        public long Memory = 3L << 30;
        public string? Label;
        public bool KeepSources;
    }

    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--one") return Worker.Run(args[1]);
        Options o;
        try
        {
            o = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        return Measure(o);
    }

    private static Options Parse(string[] args)
    {
        var o = new Options();
        string Value(ref int i) => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out": o.Out = Value(ref i); break;
                case "--files": o.FilesPerGrammar = int.Parse(Value(ref i), CultureInfo.InvariantCulture); break;
                case "--max-file-size": o.MaxFileSize = Size(Value(ref i)); break;
                case "--roots": o.Roots.AddRange(Value(ref i).Split(':', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--filter": o.Filters.Add(Value(ref i)); break;
                case "--timeout": o.Timeout = TimeSpan.FromSeconds(double.Parse(Value(ref i), CultureInfo.InvariantCulture)); break;
                case "--jobs": o.Jobs = Math.Max(1, int.Parse(Value(ref i), CultureInfo.InvariantCulture)); break;
                case "--memory": o.Memory = Size(Value(ref i)); break;
                case "--label": o.Label = Value(ref i); break;
                case "--keep-sources": o.KeepSources = true; break;
                case "-h" or "--help": throw new ArgumentException("");
                default:
                    if (args[i].StartsWith('-') || o.Corpus.Length > 0) throw new ArgumentException("unknown argument " + args[i]);
                    o.Corpus = args[i];
                    break;
            }
        }
        if (o.Corpus.Length == 0) throw new ArgumentException("CORPUS_DIR is missing");
        if (!Directory.Exists(o.Corpus)) throw new ArgumentException(o.Corpus + " is not a folder");
        o.Corpus = Path.GetFullPath(o.Corpus);
        o.Out = Path.GetFullPath(o.Out.Length > 0 ? o.Out : Path.Combine(RepoPaths.Root, "artifacts", "corpus"));
        if (o.Roots.Count == 0) o.Roots.AddRange(MachineFiles.DefaultRoots(RepoPaths.Root));
        return o;
    }

    private static long Size(string s)
    {
        s = s.Trim();
        long unit = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        return long.Parse(unit == 1 ? s : s[..^1], CultureInfo.InvariantCulture) * unit;
    }

    private static void Log(string s) => Console.Error.WriteLine(DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " " + s);

    private static int Measure(Options o)
    {
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(o.Out);
        Log("node " + KaitaiNode.EnsureReady() + ", Kaitai packages in " + KaitaiNode.Dir);

        var paths = Directory.EnumerateFiles(o.Corpus, "*.ksy", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToList();
        var infos = paths.Select(p => GrammarInfo.Load(p, o.Corpus)).ToList();
        var selected = infos.Where(i => o.Filters.Count == 0 || o.Filters.Any(f => i.Rel.Contains(f, StringComparison.Ordinal))).ToList();
        Log($"{paths.Count} grammar(s) under {o.Corpus}, {selected.Count} selected");

        // a. Kaitai's compiler.
        var kaitai = KaitaiCompiles(selected.Select(i => i.Path).ToList(), o.Corpus);
        var results = new List<GrammarResult>();
        foreach (var info in selected)
        {
            var k = kaitai[info.Path];
            results.Add(new GrammarResult
            {
                Grammar = info.Rel,
                Id = info.Id,
                KaitaiAccepts = k.Ok,
                KaitaiError = k.Error,
                Imports = k.Imports.Select(p => Path.GetRelativePath(o.Corpus, p)).ToArray(),
                Status = k.Ok ? "not-run" : "kaitai-refuses",
                RootParams = info.RootParams,
                Path = info.Path,
            });
        }
        Log($"Kaitai's compiler accepts {results.Count(r => r.KaitaiAccepts)} of {results.Count}");

        // c. (first) the real files each grammar may be for: one walk of the machine.
        var candidates = new Dictionary<int, List<Candidate>>();
        var walk = new MachineFiles.Stats();
        if (o.FilesPerGrammar > 0)
        {
            var walkClock = Stopwatch.StartNew();
            candidates = MachineFiles.Find(selected, o.Roots, o.MaxFileSize, walk);
            Log($"{walk.Files} file(s) looked at under {string.Join(' ', o.Roots)} in {walkClock.Elapsed.TotalSeconds:F0} s; {walk.Matched} match(es)");
        }

        // b. and c. One worker process per grammar.
        var keep = Path.Combine(o.Out, "does-not-compile");
        var requests = Path.Combine(o.Out, "requests");
        Directory.CreateDirectory(requests);
        int done = 0;
        Parallel.ForEach(Enumerable.Range(0, selected.Count), new ParallelOptions { MaxDegreeOfParallelism = o.Jobs }, i =>
        {
            var r = results[i];
            if (!r.KaitaiAccepts) return;
            var files = candidates.TryGetValue(i, out var c) ? c : new List<Candidate>();
            var picked = MachineFiles.Pick(selected[i], files, o.FilesPerGrammar);
            r.Candidates = files.Count(c => selected[i].Extensions.Count == 0 ? c.ByMagic : c.ByExtension);
            var grammarClock = Stopwatch.StartNew();
            RunGrammar(o, selected[i], kaitai[selected[i].Path].Imports, picked, r, requests, keep);
            var n = Interlocked.Increment(ref done);
            Log($"[{n}/{results.Count(x => x.KaitaiAccepts)}] {r.Grammar}: {r.Status}"
                + (r.Files.Count > 0 ? $", files agreeing {r.Agreed}/{r.Tried} compared ({r.Files.Count} picked)" : "")
                + $" ({grammarClock.Elapsed.TotalSeconds:F0} s)");
        });

        var run = new RunInfo(started.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), Git(RepoPaths.Root), o.Corpus, o.Label,
            o.FilesPerGrammar, o.MaxFileSize, o.Roots.ToArray(), walk.Files, clock.Elapsed.TotalMinutes);
        Report.Write(o.Out, run, results);
        Console.Out.Write(File.ReadAllText(Path.Combine(o.Out, "summary.md")));
        Log("results in " + o.Out);
        return 0;
    }

    internal sealed record RunInfo(string Date, string Commit, string Corpus, string? Label, int FilesPerGrammar, long MaxFileSize, string[] Roots, long FilesLookedAt, double Minutes);

    private static string Git(string dir)
    {
        try
        {
            var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
            foreach (var a in new[] { "log", "-1", "--format=%h %cs" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            var dirty = Process.Start(new ProcessStartInfo("git", "status --porcelain --untracked-files=no") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = dir })!;
            var changes = dirty.StandardOutput.ReadToEnd().Trim();
            dirty.WaitForExit();
            return s + (changes.Length > 0 ? " (with uncommitted changes)" : "");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "unknown";
        }
    }

    // ---------------------------------------------------------------- a. Kaitai's compiler

    internal sealed record KaitaiAnswer(bool Ok, string? Error, string[] Imports);

    /// <summary>
    /// Runs <c>.ci/kaitai/compiles.js</c> over the grammars, in one node
    /// process; should it die or hang on one, that one is marked and the
    /// rest asked again.
    /// </summary>
    private static Dictionary<string, KaitaiAnswer> KaitaiCompiles(List<string> grammars, string corpus)
    {
        var answers = new Dictionary<string, KaitaiAnswer>(StringComparer.Ordinal);
        var remaining = new Queue<string>(grammars);
        while (remaining.Count > 0)
        {
            var psi = new ProcessStartInfo("node")
            {
                WorkingDirectory = KaitaiNode.Dir,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = new UTF8Encoding(false),
            };
            foreach (var a in new[] { Path.Combine(KaitaiNode.Dir, "compiles.js"), "--root", corpus, "--stdin" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(string.Join('\n', remaining) + "\n");
            p.StandardInput.Close();
            while (remaining.Count > 0)
            {
                var read = p.StandardOutput.ReadLineAsync();
                if (!read.Wait(TimeSpan.FromMinutes(2)))
                {
                    p.Kill(entireProcessTree: true);
                    answers[remaining.Dequeue()] = new KaitaiAnswer(false, "compiles.js did not answer within 2 minutes", Array.Empty<string>());
                    break;
                }
                if (read.Result is not { } line)
                {
                    answers[remaining.Dequeue()] = new KaitaiAnswer(false, "compiles.js died: " + Worker.Clip(stderr.Result, 1000), Array.Empty<string>());
                    break;
                }
                var json = JsonDocument.Parse(line).RootElement;
                var grammar = json.GetProperty("grammar").GetString()!;
                var expected = remaining.Dequeue();
                if (grammar != expected) throw new InvalidOperationException($"compiles.js answered {grammar} for {expected}");
                answers[grammar] = new KaitaiAnswer(json.GetProperty("ok").GetBoolean(),
                    json.TryGetProperty("error", out var e) ? e.GetString() : null,
                    json.GetProperty("imports").EnumerateArray().Select(x => x.GetString()!).ToArray());
            }
            if (!p.HasExited) p.WaitForExit(10_000);
        }
        return answers;
    }

    // ---------------------------------------------------------------- b. and c. the worker

    /// <summary>
    /// Runs the worker on one grammar, and again on the files left when it
    /// dies or falls silent (the file it was on is counted against the side
    /// that was working on it).
    /// </summary>
    private static void RunGrammar(Options o, GrammarInfo info, string[] imports, List<Candidate> picked, GrammarResult r, string requests, string keep)
    {
        var pending = picked.ToList();
        var sizes = picked.ToDictionary(c => c.Path, c => c.Size, StringComparer.Ordinal);
        bool generated = false;
        for (int launch = 1; ; launch++)
        {
            var request = new WorkRequest(info.Path, imports, pending.Select(c => c.Path).ToArray(), info.RootParams, keep, 5, 16L << 20,
                o.KeepSources ? Path.Combine(Path.GetDirectoryName(keep)!, "generated") : null, o.Corpus);
            var requestPath = Path.Combine(requests, r.Grammar.Replace('/', '_') + ".json");
            File.WriteAllText(requestPath, JsonSerializer.Serialize(request, Json.Options));
            var (finished, timedOut, exit, stderr, batch, current, currentKaitai) = Launch(o, requestPath, e =>
            {
                switch (e.Event)
                {
                    case "generated" when !generated:
                        generated = true;
                        r.Status = e.Status!;
                        r.GenerateSeconds = e.Seconds;
                        r.Diagnostics = e.Diagnostics?.ToList() ?? new();
                        var errors = r.Errors();
                        r.Features = errors.Select(Features.Of).Distinct().ToList();
                        r.RefusalNamesFeatures = errors.Count > 0 && errors.All(Features.NamesFeature);
                        r.CompileErrors = e.Errors;
                        r.Detail = e.Detail;
                        break;
                    case "file":
                        r.Files.Add(new FileResult(e.File!, sizes.GetValueOrDefault(e.File!), e.Outcome!, e.Detail, e.Seconds, e.KaitaiParses));
                        pending.RemoveAll(c => c.Path == e.File);
                        break;
                    case "note":
                        r.Notes.Add(e.Detail!);
                        break;
                }
            });
            if (finished) return;
            var why = (timedOut ? $"silent for {o.Timeout.TotalSeconds:F0} s, killed" : $"worker exited with code {exit}") + (stderr.Length > 0 ? ": " + stderr : "");
            if (!generated)
            {
                r.Status = timedOut ? "timeout" : "worker-died";
                r.Detail = why;
                return;
            }
            // Counted against the side that was working: our reader on `current`, Kaitai on the batch.
            var culprits = current is not null ? new[] { current } : batch?.Where(f => pending.Any(c => c.Path == f)).ToArray() ?? Array.Empty<string>();
            var outcome = current is not null
                ? (timedOut ? Outcomes.OursTimeout : Outcomes.OursCrash)
                : (timedOut ? Outcomes.KaitaiTimeout : Outcomes.KaitaiFailed);
            foreach (var f in culprits)
            {
                r.Files.Add(new FileResult(f, sizes.GetValueOrDefault(f), outcome, why, null, current is not null ? currentKaitai : null));
                pending.RemoveAll(c => c.Path == f);
            }
            if (culprits.Length == 0) r.Notes.Add(why);
            if (pending.Count == 0) return;
            if (launch >= 4 || culprits.Length == 0)
            {
                r.Notes.Add($"{pending.Count} file(s) not tried after {launch} worker run(s)");
                return;
            }
        }
    }

    private static (bool Finished, bool TimedOut, int? Exit, string Stderr, string[]? Batch, string? Current, bool? CurrentKaitai) Launch(Options o, string requestPath, Action<WorkEvent> onEvent)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("--one");
        psi.ArgumentList.Add(requestPath);
        // Bounded memory: the worker's GC heap, and node's (parse.js runs under the worker).
        psi.Environment["DOTNET_GCHeapHardLimit"] = "0x" + o.Memory.ToString("x", CultureInfo.InvariantCulture);
        psi.Environment["NODE_OPTIONS"] = "--max-old-space-size=" + (o.Memory >> 20).ToString(CultureInfo.InvariantCulture);
        using var p = Process.Start(psi)!;
        var tail = new StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (tail)
            {
                tail.Append(e.Data).Append('\n');
                if (tail.Length > 6000) tail.Remove(0, tail.Length - 4000);
            }
        };
        p.BeginErrorReadLine();
        string[]? batch = null;
        string? current = null;
        bool? currentKaitai = null;
        bool finished = false, timedOut = false;
        while (true)
        {
            string? line;
            using (var idle = new CancellationTokenSource(o.Timeout))
            {
                try
                {
                    line = p.StandardOutput.ReadLineAsync(idle.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    timedOut = true;
                    break;
                }
            }
            if (line is null) break;
            WorkEvent? e;
            try
            {
                e = JsonSerializer.Deserialize<WorkEvent>(line, Json.Options);
            }
            catch (JsonException)
            {
                continue; // not ours (a stray line): ignore
            }
            if (e is null) continue;
            switch (e.Event)
            {
                case "kaitai": batch = e.Batch; current = null; break;
                case "file-start": current = e.File; currentKaitai = e.KaitaiParses; break;
                case "file": current = null; break;
                case "done": finished = true; break;
            }
            onEvent(e);
            if (finished) break;
        }
        if (timedOut || !finished)
        {
            try { p.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }
        p.WaitForExit(30_000);
        int? exit = p.HasExited ? p.ExitCode : null;
        string stderr;
        lock (tail) stderr = Worker.Clip(tail.ToString().Trim(), 3000);
        return (finished, timedOut, exit, stderr, batch, current, currentKaitai);
    }
}
