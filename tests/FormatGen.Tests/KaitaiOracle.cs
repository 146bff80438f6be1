using System;
using System.Collections;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json;
using System.Threading;
using FormatGen.Runtime;
using YamlDotNet.RepresentationModel;

namespace FormatGen.Tests;

/// <summary>One input handed to both readers; <paramref name="Params"/>: the root's parameters (a grammar whose root has params).</summary>
internal sealed record OracleInput(string Name, byte[] Data, object[]? Params = null);

/// <summary>Why Kaitai refused an input: the JS error's name, message, offset in the input and grammar path (for `valid` failures).</summary>
internal sealed record KaitaiError(string Kind, string Message, long? Pos, string? SrcPath)
{
    public override string ToString()
        => Kind + (Pos is null ? "" : " at " + Pos.Value.ToString(CultureInfo.InvariantCulture)) + (SrcPath is null ? "" : " (" + SrcPath + ")") + ": " + Message;
}

/// <summary>Kaitai's answer for one input: a tree or an error.</summary>
internal sealed record KaitaiResult(string Name, JsonElement? Tree, KaitaiError? Error);

/// <summary>One run of <c>.ci/kaitai/parse.js</c>: what it compiled (and excluded), and a result per input.</summary>
internal sealed record KaitaiRun(JsonElement Compiled, IReadOnlyList<KaitaiResult> Results);

/// <summary>
/// The reference implementation: Kaitai Struct's compiler (to JavaScript) and
/// JS runtime, under node, driven by <c>.ci/kaitai/parse.js</c>. One node
/// process serves a whole batch of inputs.
/// </summary>
internal static class KaitaiNode
{
    private static readonly string[] Packages = { "kaitai-struct-compiler", "kaitai-struct", "js-yaml" };
    private static readonly Lazy<string> Ready = new(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Dir => Path.Combine(RepoPaths.Root, ".ci", "kaitai");

    /// <summary>node's version; installs the npm packages (npm ci) when they are missing. Throws with a plain message when node is absent.</summary>
    public static string EnsureReady() => Ready.Value;

    private static string Prepare()
    {
        ProcessResult version;
        try
        {
            version = Run("node", new[] { "--version" }, Dir, null, TimeSpan.FromSeconds(60));
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "node was not found on PATH (" + e.Message + "). The Kaitai oracle tests run the reference Kaitai Struct " +
                "implementation under node (20 or later) with npm: install both, as the README says, then run the tests again.");
        }
        if (version.ExitCode != 0) throw new InvalidOperationException("`node --version` failed: " + version.Stderr);
        if (!Installed())
        {
            ProcessResult npm;
            try
            {
                npm = Run("npm", new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" }, Dir, null, TimeSpan.FromMinutes(10));
            }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException("npm was not found on PATH (" + e.Message + "); it installs the Kaitai packages listed in .ci/kaitai/package.json.");
            }
            if (npm.ExitCode != 0 || !Installed())
                throw new InvalidOperationException($"`npm ci` in {Dir} failed (exit {npm.ExitCode}): {npm.Stderr}{npm.Stdout}");
        }
        return version.Stdout.Trim();
    }

    private static bool Installed() => Packages.All(p => File.Exists(Path.Combine(Dir, "node_modules", p, "package.json")));

    /// <summary>Parses every input with Kaitai, in one node process; <paramref name="asWritten"/> without parse.js's exclusions.</summary>
    public static KaitaiRun Parse(string grammarPath, IReadOnlyList<OracleInput> inputs, bool asWritten = false)
    {
        EnsureReady();
        var request = new MemoryStream();
        using (var json = new Utf8JsonWriter(request))
        {
            json.WriteStartObject();
            json.WriteString("grammar", grammarPath);
            json.WriteBoolean("asWritten", asWritten);
            json.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                json.WriteStartObject();
                json.WriteString("name", input.Name);
                json.WriteBase64String("base64", input.Data);
                if (input.Params is { } ps)
                {
                    json.WriteStartArray("params");
                    foreach (var p in ps)
                    {
                        if (p is bool b) json.WriteBooleanValue(b);
                        else json.WriteNumberValue(System.Convert.ToInt64(p, CultureInfo.InvariantCulture));
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        var result = Run("node", new[] { Path.Combine(Dir, "parse.js"), "--stdin" }, Dir, request.ToArray(), TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0) throw new InvalidOperationException($"parse.js failed on {grammarPath} (exit {result.ExitCode}): {result.Stderr}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length != inputs.Count + 1)
            throw new InvalidOperationException($"parse.js printed {lines.Length} line(s) for {inputs.Count} input(s): {result.Stderr}");
        var compiled = JsonDocument.Parse(lines[0]).RootElement.GetProperty("compiled").Clone();
        var results = new List<KaitaiResult>(inputs.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            var line = JsonDocument.Parse(lines[i + 1]).RootElement;
            var name = line.GetProperty("input").GetString()!;
            if (name != inputs[i].Name) throw new InvalidOperationException($"parse.js answered {name} for {inputs[i].Name}");
            if (line.TryGetProperty("ok", out var tree))
            {
                results.Add(new KaitaiResult(name, tree.Clone(), null));
                continue;
            }
            var e = line.GetProperty("error");
            results.Add(new KaitaiResult(name, null, new KaitaiError(
                e.GetProperty("kind").GetString()!,
                e.GetProperty("message").GetString()!,
                e.GetProperty("pos").ValueKind == JsonValueKind.Number ? e.GetProperty("pos").GetInt64() : null,
                e.GetProperty("srcPath").ValueKind == JsonValueKind.String ? e.GetProperty("srcPath").GetString() : null)));
        }
        return new KaitaiRun(compiled, results);
    }

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

    private static ProcessResult Run(string file, string[] args, string dir, byte[]? stdin, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = dir,
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>
/// A grammar compiled by our generator in memory and loaded into a
/// collectible context: its root type's Read and Validate, and helpers to build
/// models by reflection.
/// </summary>
internal sealed class GeneratedGrammar
{
    public delegate IReadOnlyList<FgViolation> ValidateFn(ReadOnlySpan<byte> data);

    private GeneratedGrammar(string path, string id, Assembly assembly, Type root)
    {
        Path = path;
        Id = id;
        Assembly = assembly;
        Root = root;
        // A grammar without meta/endian takes the byte order as a further argument (false: big-endian, Kaitai's default).
        if (root.GetMethod("Read", new[] { typeof(ReadOnlyMemory<byte>) }) is { } read)
        {
            Read = (Func<ReadOnlyMemory<byte>, object>)Delegate.CreateDelegate(typeof(Func<ReadOnlyMemory<byte>, object>), read);
            Validate = (ValidateFn)Delegate.CreateDelegate(typeof(ValidateFn), root.GetMethod("Validate", new[] { typeof(ReadOnlySpan<byte>) })!);
        }
        else if (root.GetMethod("Read", new[] { typeof(ReadOnlyMemory<byte>), typeof(bool) }) is { } readLe)
        {
            var r = (Func<ReadOnlyMemory<byte>, bool, object>)Delegate.CreateDelegate(typeof(Func<ReadOnlyMemory<byte>, bool, object>), readLe);
            var v = (ValidateLeFn)Delegate.CreateDelegate(typeof(ValidateLeFn), root.GetMethod("Validate", new[] { typeof(ReadOnlySpan<byte>), typeof(bool) })!);
            Read = data => r(data, false);
            Validate = data => v(data, false);
        }
        else if (ParamsRead(root) is { } withParams)
        {
            // A root with params: each input brings its own (OracleInput.Params).
            _readParams = withParams;
            _validateParams = root.GetMethod("Validate", withParams.GetParameters().Select((p, i) => i == 0 ? typeof(ReadOnlySpan<byte>) : p.ParameterType).ToArray())!;
            Read = _ => throw new InvalidOperationException(root + " takes params: read with ReadWith");
            Validate = _ => throw new InvalidOperationException(root + " takes params: validate with ValidateWith");
        }
        else throw new InvalidOperationException(root + " has no Read(ReadOnlyMemory<byte>, ...)");
    }

    private readonly MethodInfo? _readParams, _validateParams;

    /// <summary>A root's Read taking its params after the octets (and no byte order: the grammar sets it).</summary>
    private static MethodInfo? ParamsRead(Type t)
        => t.GetMethods(BindingFlags.Public | BindingFlags.Static).FirstOrDefault(m => m.Name == "Read" && m.GetParameters() is { Length: > 1 } ps && ps[0].ParameterType == typeof(ReadOnlyMemory<byte>) && !ps.Any(p => p.ParameterType.IsByRef));

    /// <summary>Reads with the root's params, when it has some.</summary>
    public object ReadWith(ReadOnlyMemory<byte> data, object[]? ps)
    {
        if (_readParams is null) return Read(data);
        try { return _readParams.Invoke(null, new object[] { data }.Concat(Args(_readParams, ps)).ToArray())!; }
        catch (TargetInvocationException e) when (e.InnerException is not null) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw(); throw; }
    }

    /// <summary>Validates with the root's params, when it has some (a span cannot be passed by reflection: a typed delegate is made).</summary>
    public IReadOnlyList<FgViolation> ValidateWith(ReadOnlySpan<byte> data, object[]? ps)
    {
        if (_validateParams is null) return Validate(data);
        var args = Args(_validateParams, ps);
        var types = _validateParams.GetParameters().Skip(1).Select(p => p.ParameterType).ToArray();
        var bind = typeof(GeneratedGrammar).GetMethod(types.Length switch { 1 => nameof(Bind1), 2 => nameof(Bind2), 3 => nameof(Bind3), _ => throw new NotSupportedException("a root with more than 3 params") },
            BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(types);
        var fn = (ValidateFn)bind.Invoke(null, new object[] { _validateParams }.Concat(args).ToArray())!;
        return fn(data);
    }

    private static object[] Args(MethodInfo m, object[]? ps)
    {
        var types = m.GetParameters().Skip(1).Select(p => p.ParameterType).ToArray();
        if (ps is null || ps.Length != types.Length) throw new InvalidOperationException(m.DeclaringType + " takes " + types.Length + " params; the input gives " + (ps?.Length ?? 0));
        return ps.Select((p, i) => System.Convert.ChangeType(p, types[i], CultureInfo.InvariantCulture)).ToArray();
    }

    private delegate IReadOnlyList<FgViolation> V1<A>(ReadOnlySpan<byte> d, A a);
    private delegate IReadOnlyList<FgViolation> V2<A, B>(ReadOnlySpan<byte> d, A a, B b);
    private delegate IReadOnlyList<FgViolation> V3<A, B, C>(ReadOnlySpan<byte> d, A a, B b, C c);
    private static ValidateFn Bind1<A>(MethodInfo m, A a) { var f = m.CreateDelegate<V1<A>>(); return d => f(d, a); }
    private static ValidateFn Bind2<A, B>(MethodInfo m, A a, B b) { var f = m.CreateDelegate<V2<A, B>>(); return d => f(d, a, b); }
    private static ValidateFn Bind3<A, B, C>(MethodInfo m, A a, B b, C c) { var f = m.CreateDelegate<V3<A, B, C>>(); return d => f(d, a, b, c); }

    private delegate IReadOnlyList<FgViolation> ValidateLeFn(ReadOnlySpan<byte> data, bool littleEndian);

    /// <summary>Whether a type is a grammar's root as the oracle reads it: a Read of the octets alone (or with the byte order).</summary>
    internal static bool IsReadable(Type t)
        => t.GetMethod("Read", new[] { typeof(ReadOnlyMemory<byte>) }) is not null || t.GetMethod("Read", new[] { typeof(ReadOnlyMemory<byte>), typeof(bool) }) is not null
           || ParamsRead(t) is not null;

    public string Path { get; }
    public string Id { get; }
    public Assembly Assembly { get; }
    public Type Root { get; }
    public Func<ReadOnlyMemory<byte>, object> Read { get; }
    public ValidateFn Validate { get; }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<GeneratedGrammar>> Compiled = new(StringComparer.Ordinal);

    /// <summary>The grammar at <paramref name="path"/>, generated and compiled once per test run.</summary>
    public static GeneratedGrammar Compile(string path)
        => Compiled.GetOrAdd(System.IO.Path.GetFullPath(path), p => new Lazy<GeneratedGrammar>(() => CompileNow(p))).Value;

    private static GeneratedGrammar CompileNow(string path)
    {
        var text = File.ReadAllText(path);
        var (run, output) = GeneratorHarness.Generate(GeneratorHarness.WithImports(path));
        if (!run.Diagnostics.IsEmpty) throw new InvalidOperationException($"{path}: the generator reports {string.Join("\n", run.Diagnostics)}");
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        if (!emit.Success) throw new InvalidOperationException($"{path}: generated code does not compile: {string.Join("\n", emit.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))}");
        ms.Position = 0;
        var assembly = new AssemblyLoadContext("oracle:" + System.IO.Path.GetFileName(path), isCollectible: true).LoadFromStream(ms);
        var id = MetaId(text);
        var root = RootOf(assembly, id) ?? throw new InvalidOperationException($"{path}: no generated root type of '{id}' with Read(ReadOnlyMemory<byte>)");
        return new GeneratedGrammar(path, id, assembly, root);
    }

    private static string MetaId(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var meta = (YamlMappingNode)root.Children[new YamlScalarNode("meta")];
        return ((YamlScalarNode)meta.Children[new YamlScalarNode("id")]).Value!;
    }

    /// <summary>The generated root type of grammar <paramref name="id"/> (by its FgKsyName; imported grammars' types share the assembly), when the oracle can read it.</summary>
    public static Type? RootOf(Assembly assembly, string id)
        => assembly.GetTypes().FirstOrDefault(t => t.GetCustomAttribute<FgKsyNameAttribute>() is { } n && n.Path == id && IsReadable(t));

    public Type Type(string name) => Assembly.GetTypes().Single(t => t.Name == name);

    /// <summary>A model of the named generated type with the given properties set (init setters are callable by reflection).</summary>
    public object New(string typeName, params (string Property, object? Value)[] properties)
    {
        var type = Type(typeName);
        var model = Activator.CreateInstance(type)!;
        foreach (var (name, value) in properties)
        {
            var p = type.GetProperty(name) ?? throw new InvalidOperationException($"{typeName} has no property {name}");
            p.SetValue(model, value is Array a && p.PropertyType.IsGenericType ? ListOf(p.PropertyType.GetGenericArguments()[0], a) : value);
        }
        return model;
    }

    public object Enum(string typeName, ulong value) => System.Enum.ToObject(Type(typeName), value);

    private static Array ListOf(Type element, Array items)
    {
        var list = Array.CreateInstance(element, items.Length);
        Array.Copy(items, list, items.Length);
        return list;
    }

    /// <summary>Writes a root model with the generated writer (ToArray).</summary>
    public byte[] Write(object model) => LanguageTests.Write(model);

    /// <summary>Writes the model as it is, even when the result breaks a rule (verify: false).</summary>
    public byte[] WriteUnchecked(object model) => LanguageTests.Write(model, verify: false);
}

/// <summary>
/// What one grammar's comparison saw, beyond agreement: members only one side
/// has, exclusions and divergences our design accepts. Printed after each run
/// so the gaps stay visible.
/// </summary>
internal sealed class OracleReport
{
    public int Inputs;
    public int BothParsed;
    public int BothRefused;
    public int OursFlaggedKaitaiParsed;
    public int OursReadRefusedValidateClean;
    public long Compared;
    public readonly SortedDictionary<string, int> OnlyKaitai = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, int> OnlyOursNull = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, int> Js32Skipped = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, int> OurRulesKaitaiLacks = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, int> KaitaiCannot = new(StringComparer.Ordinal);
    public readonly List<string> Dropped = new();
    public readonly List<string> Disagreements = new();
    public readonly List<OracleInput> DisagreeingInputs = new();

    public static void Count(SortedDictionary<string, int> d, string key) => d[key] = d.TryGetValue(key, out var n) ? n + 1 : 1;

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Inputs} input(s): {BothParsed} parsed by both and equal, {BothRefused} refused by both, ");
        sb.Append(CultureInfo.InvariantCulture, $"{OursFlaggedKaitaiParsed} parsed by Kaitai that our rules (-fg-checks, or valid rules Kaitai cannot evaluate) flag, ");
        sb.Append(CultureInfo.InvariantCulture, $"{Disagreements.Count} disagreement(s); {Compared} value(s) compared\n");
        if (OursReadRefusedValidateClean > 0)
            sb.Append(CultureInfo.InvariantCulture, $"  note: {OursReadRefusedValidateClean} input(s) our Read refuses while our Validate reports no error\n");
        void List(string title, SortedDictionary<string, int> d)
        {
            if (d.Count == 0) return;
            sb.Append("  ").Append(title).Append(": ").AppendJoin(", ", d.Select(kv => kv.Key + " (" + kv.Value.ToString(CultureInfo.InvariantCulture) + ")")).Append('\n');
        }
        List("not compared, only Kaitai has them (not properties of our models)", OnlyKaitai);
        List("not compared, Kaitai JS evaluates them with 32-bit bitwise operators on a 64-bit field", Js32Skipped);
        List("our errors on inputs Kaitai parsed (rules Kaitai does not have or cannot evaluate)", OurRulesKaitaiLacks);
        List("not compared, known differences of Kaitai's JS runtime (docs/kaitai-oracle.md)", KaitaiCannot);
        List("our properties Kaitai has no member for (null/empty here)", OnlyOursNull);
        if (Dropped.Count > 0) sb.Append("  valid rules not given to Kaitai (its JS would check the wrong bits): ").AppendJoin("; ", Dropped).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// Compares Kaitai's tree with our model, field by field, and checks that both
/// refuse the same inputs (docs/kaitai-oracle.md, "Comparison").
/// </summary>
internal sealed class OracleComparer
{
    /// <summary>Names the generator gives a "Value" suffix (ModelBuilder.ReservedMembers), besides the owner type's own name.</summary>
    private static readonly HashSet<string> ReservedMembers = new(StringComparer.Ordinal)
        { "Read", "TryRead", "Write", "Validate", "Measure", "Equals", "GetHashCode", "ToString", "Summary", "EqualityContract", "Deconstruct", "Clone", "PrintMembers", "Layout", "Slack" };

    private static readonly Dictionary<Type, Dictionary<string, PropertyInfo>> PropertyCache = new();

    private readonly GeneratedGrammar _grammar;
    private readonly OracleReport _report;


    public OracleComparer(GeneratedGrammar grammar, OracleReport report)
    {
        _grammar = grammar;
        _report = report;
    }

    private sealed record Threw(Exception Error);

    /// <summary>Checks one input; a disagreement is added to the report with a readable diff.</summary>
    public void Check(OracleInput input, KaitaiResult kaitai)
    {
        _report.Inputs++;
        var diffs = new List<string>();
        object? model = null;
        FgException? readError = null;
        IReadOnlyList<FgViolation> violations;
        try
        {
            model = _grammar.ReadWith(input.Data, input.Params);
        }
        catch (FgException e)
        {
            readError = e;
        }
        catch (Exception e)
        {
            diffs.Add("our Read crashed: " + e);
        }
        try
        {
            violations = _grammar.ValidateWith(input.Data, input.Params);
        }
        catch (Exception e)
        {
            violations = Array.Empty<FgViolation>();
            diffs.Add("our Validate crashed: " + e);
        }
        var errors = violations.Where(v => v.Severity == FgSeverity.Error).ToList();
        if (readError is not null && errors.Count == 0) _report.OursReadRefusedValidateClean++;

        if (kaitai.Error is not null)
        {
            if (readError is null && errors.Count == 0 && diffs.Count == 0 && KaitaiLimit(kaitai.Error.Message) is { } limit)
                OracleReport.Count(_report.KaitaiCannot, limit);
            else if (readError is null && errors.Count == 0 && diffs.Count == 0)
                diffs.Add($"Kaitai refuses the input ({kaitai.Error}); our Read parses it and our Validate reports no error");
            else if (diffs.Count == 0) _report.BothRefused++;
        }
        else if (readError is not null)
        {
            diffs.Add($"Kaitai parses the input; our Read throws {readError.Message}");
        }
        else if (model is not null)
        {
            new Walk(this, diffs).Struct(kaitai.Tree!.Value, model, "");
            if (diffs.Count == 0)
            {
                _report.BothParsed++;
                if (errors.Count > 0) _report.OursFlaggedKaitaiParsed++;
                foreach (var rule in errors.Select(v => v.Rule).Distinct()) OracleReport.Count(_report.OurRulesKaitaiLacks, rule);
            }
        }
        if (diffs.Count == 0) return;
        var text = string.Join("\n    ", diffs.Take(12)) + (diffs.Count > 12 ? $"\n    ... and {diffs.Count - 12} more" : "");
        _report.Disagreements.Add($"{System.IO.Path.GetFileName(_grammar.Path)}, input {input.Name} ({input.Data.Length} octets):\n    {text}");
        _report.DisagreeingInputs.Add(input);
    }

    /// <summary>
    /// Errors of Kaitai's JS runtime that are its own limits, not the input's
    /// fault: such an input is counted under the limit's name, not compared.
    /// </summary>
    public static string? KaitaiLimit(string error) =>
        error.Contains("the maximum supported bit length is 32", StringComparison.Ordinal) ? "bit-sized integers wider than 32 bits (readBitsInt*)"
        : PakoErrors.Contains(error) ? "zlib data whose value and checksum are whole but whose deflate stream is malformed after them (pako refuses; .NET's inflater, which cannot tell, reads the value)"
        : null;

    /// <summary>
    /// The errors pako (Kaitai's JS zlib) gives for a malformed deflate stream.
    /// Ours checks the header and the Adler-32 of what it inflated, so where our
    /// Read succeeds the value is whole; only a malformation after it (in the
    /// last block's end) goes unseen by .NET.
    /// </summary>
    private static readonly HashSet<string> PakoErrors = new(StringComparer.Ordinal)
    {
        "invalid distance code", "invalid stored block lengths", "invalid block type", "invalid code lengths set",
        "too many length or distance symbols", "invalid bit length repeat", "invalid literal/lengths set", "invalid distances set",
        "invalid literal/length code", "invalid distance too far back", "invalid code -- missing end-of-block", "unexpected end of file",
    };

    /// <summary>One comparison of a tree with a model.</summary>
    private sealed class Walk(OracleComparer owner, List<string> diffs)
    {
        /// <summary>Whether, in the struct being compared, one of Kaitai's instances failed.</summary>
        private bool siblingFailed;

        private OracleReport Report => owner._report;

        private void Diff(string path, string kaitai, string ours) => diffs.Add($"{(path.Length == 0 ? "(root)" : path)}: Kaitai {kaitai}, ours {ours}");

        public void Struct(JsonElement k, object? ours, string path)
        {
            var kType = k.GetProperty("$type").GetString()!;
            if (ours is null or Threw)
            {
                Diff(path, kType, Show(ours));
                return;
            }
            var type = ours.GetType();
            if (IsUnknownCase(type))
            {
                Diff(path, kType + " " + Brief(k), "the unknown case " + Show(ours));
                return;
            }
            var ksyName = type.GetCustomAttribute<FgKsyNameAttribute>();
            if (ksyName is null || Norm(ksyName.Id) != Norm(kType)) Diff(path, "type " + kType, "type " + (ksyName?.Path ?? type.Name));
            var props = Properties(type);
            var used = new HashSet<PropertyInfo>();
            // Kaitai keeps what a failed instance read had built so far (an empty list, say); what reads it then sees that.
            var outer = siblingFailed;
            siblingFailed = k.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("$error", out _));
            foreach (var field in k.EnumerateObject())
            {
                if (field.Name.StartsWith('$')) continue;
                var member = kType + "." + field.Name;
                var sub = path.Length == 0 ? field.Name : path + "." + field.Name;
                if (!props.TryGetValue(Norm(field.Name), out var p))
                {
                    OracleReport.Count(Report.OnlyKaitai, member);
                    continue;
                }
                used.Add(p);
                object? value;
                try
                {
                    value = p.GetValue(ours);
                }
                catch (TargetInvocationException e)
                {
                    value = new Threw(e.InnerException ?? e);
                }
                Value(field.Value, value, sub, member);
            }
            siblingFailed = outer;
            if (type.GetProperty("Slack") is { } slackProp && slackProp.PropertyType == typeof(ReadOnlyMemory<byte>))
            {
                // Octets left inside the type's size: Kaitai's are in $slack.
                used.Add(slackProp);
                var theirs = k.TryGetProperty("$slack", out var ks) ? ks.GetString()! : "";
                var mine = Convert.ToHexStringLower(((ReadOnlyMemory<byte>)slackProp.GetValue(ours)!).Span);
                Report.Compared++;
                if (theirs != mine) Diff((path.Length == 0 ? "" : path + ".") + "Slack", "octets " + Short(theirs), "octets " + Short(mine));
            }
            foreach (var p in props.Values.Distinct())
            {
                if (used.Contains(p)) continue;
                object? value;
                try { value = p.GetValue(ours); }
                catch (TargetInvocationException) { value = null; }
                if (value is null || (value is ICollection c && c.Count == 0)) OracleReport.Count(Report.OnlyOursNull, type.Name + "." + p.Name);
                else Diff((path.Length == 0 ? "" : path + ".") + p.Name, "has no such member", Show(value));
            }
        }

        private void Value(JsonElement k, object? ours, string path, string member)
        {
            // A primitive or string case of a switch: ours is a record holding the value (and any slack).
            if (ours is not null && IsCaseValue(ours.GetType()) && !(k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$type", out _)))
                ours = ours.GetType().GetProperty("Value")!.GetValue(ours);
            // No size and no case: Kaitai reads nothing (null); ours keeps the key with no octets.
            if (k.ValueKind == JsonValueKind.Null && ours is not null && IsUnknownCase(ours.GetType())
                && ((ReadOnlyMemory<byte>)ours.GetType().GetProperty("Bytes")!.GetValue(ours)!).IsEmpty)
            {
                Report.Compared++;
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "to-i" } } && (k.ValueKind == JsonValueKind.Number || k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$float", out _)))
            {
                OracleReport.Count(Report.KaitaiCannot, "to_i of text that is not wholly a number (Kaitai's JS parseInt takes a leading number or gives NaN; its Java, C# and Python runtimes fail, as we do)");
                return;
            }
            if (ours is Threw { Error: FgException } && siblingFailed && !(k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$error", out _)))
            {
                OracleReport.Count(Report.KaitaiCannot, "an instance that reads another whose read failed (Kaitai keeps and reads what the failed read built; ours fails again)");
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "switch" } } && (k.ValueKind == JsonValueKind.Null || k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$float", out _)))
            {
                OracleReport.Count(Report.KaitaiCannot, "the value of a switch of integers whose key named no case (Kaitai's JS computes with undefined: NaN; its Java runtime fails, as we do)");
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "cast" } } && k.ValueKind == JsonValueKind.Null)
            {
                OracleReport.Count(Report.KaitaiCannot, ".as<T> of a value that is not a T (Kaitai's JS casts nothing and reads undefined; its Java runtime fails, as we do)");
                return;
            }
            if (ours is long && k.ValueKind == JsonValueKind.Object
                && (k.TryGetProperty("$float", out _) || k.TryGetProperty("$double", out var big) && Math.Abs(double.Parse(big.GetString()!, CultureInfo.InvariantCulture)) >= 9.2233720368547758e18))
            {
                OracleReport.Count(Report.KaitaiCannot, "to_i of a float that is NaN or beyond the 64-bit range (Kaitai's JS keeps the float; its Java runtime, as we do, gives 0 or the range's end)");
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "bad-pos" } } && !(k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$error", out _)))
            {
                OracleReport.Count(Report.KaitaiCannot, "a parse instance whose position lies past the end of its stream (Kaitai's JS moves it to the end and reads there; Java's runtime fails, as we do)");
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "absent" } } && (k.ValueKind is JsonValueKind.Null or JsonValueKind.False or JsonValueKind.True or JsonValueKind.Number
                                                                          || k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$float", out _)))
            {
                OracleReport.Count(Report.KaitaiCannot, "an instance whose 'if' is false read by an expression (Kaitai's JS computes with undefined: NaN, null, false; its Java and Python runtimes fail, as we do)");
                return;
            }
            if (ours is Threw { Error: FgException { Rule: "index" or "empty" } } && k.ValueKind == JsonValueKind.Null)
            {
                OracleReport.Count(Report.KaitaiCannot, "an index outside a list, or first/last of an empty one (Kaitai's JS gives undefined; its Java and Python runtimes fail, as we do)");
                return;
            }
            if (ours is Threw t && !(k.ValueKind == JsonValueKind.Object && k.TryGetProperty("$error", out _)))
            {
                Diff(path, Brief(k), "throws " + t.Error.GetType().Name + ": " + t.Error.Message);
                return;
            }
            if (k.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object)) Report.Compared++;
            switch (k.ValueKind)
            {
                case JsonValueKind.Null:
                    if (ours is not null && !(ours is ICollection { Count: 0 })) Diff(path, "null (not read)", Show(ours));
                    return;
                case JsonValueKind.True:
                case JsonValueKind.False:
                    if (ours is not bool b || b != k.GetBoolean()) Diff(path, k.GetBoolean() ? "true" : "false", Show(ours));
                    return;
                case JsonValueKind.Number:
                    Number(k, ours, path);
                    return;
                case JsonValueKind.String:
                    Text(k.GetString()!, ours, path);
                    return;
                case JsonValueKind.Array:
                    if (ours is ReadOnlyMemory<byte> or byte[] && k.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number))
                    {
                        // A repeat of octet-wide integers (u1, b1..b8) is octets in our models.
                        var octets = ours is byte[] a ? a : ((ReadOnlyMemory<byte>)ours).ToArray();
                        if (!octets.Select(x => (long)x).SequenceEqual(k.EnumerateArray().Select(e => e.TryGetInt64(out var x) ? x : -1)))
                            Diff(path, "[" + string.Join(", ", k.EnumerateArray()) + "]", Show(ours));
                        return;
                    }
                    if (ours is null or string or ReadOnlyMemory<byte> or byte[] || ours is not IEnumerable list)
                    {
                        Diff(path, "a list of " + k.GetArrayLength().ToString(CultureInfo.InvariantCulture), Show(ours));
                        return;
                    }
                    var items = list.Cast<object?>().ToList();
                    if (items.Count != k.GetArrayLength())
                    {
                        Diff(path, k.GetArrayLength().ToString(CultureInfo.InvariantCulture) + " element(s)", items.Count.ToString(CultureInfo.InvariantCulture) + " element(s)");
                        return;
                    }
                    int i = 0;
                    foreach (var e in k.EnumerateArray())
                    {
                        Value(e, items[i], path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]", member);
                        if (diffs.Count > 50) return;
                        i++;
                    }
                    return;
                case JsonValueKind.Object:
                    break;
                default:
                    Diff(path, k.ToString(), Show(ours));
                    return;
            }
            if (k.TryGetProperty("$double", out var dbl))
            {
                Report.Compared++;
                // Kaitai's JS runtime reads u8/s8 as a double: compare our integer rounded the same way.
                var theirs = double.Parse(dbl.GetString()!, CultureInfo.InvariantCulture);
                if (ours is double or float)
                {
                    // A float whose value happens to be a large whole number.
                    if (Convert.ToDouble(ours, CultureInfo.InvariantCulture) != theirs) Diff(path, dbl.GetString()!, Show(ours));
                    return;
                }
                if (Integer(ours) is not { } v || ToDouble(v) != theirs) Diff(path, dbl.GetString() + " (a double: Kaitai's JS reads 64-bit integers as doubles)", Show(ours));
                return;
            }
            if (k.TryGetProperty("$float", out var special))
            {
                Report.Compared++;
                var theirs = special.GetString() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, _ => double.NegativeInfinity };
                if (ours is not (double or float) || !Convert.ToDouble(ours, CultureInfo.InvariantCulture).Equals(theirs)) Diff(path, special.GetString()!, Show(ours));
                return;
            }
            if (k.TryGetProperty("$js32", out _))
            {
                OracleReport.Count(Report.Js32Skipped, member);
                return;
            }
            if (k.TryGetProperty("$error", out var err))
            {
                if (ours is not Threw) Diff(path, "throws " + err.GetProperty("kind").GetString() + ": " + err.GetProperty("message").GetString(), Show(ours));
                return;
            }
            if (k.TryGetProperty("$type", out _))
            {
                Struct(k, ours, path);
                return;
            }
            Diff(path, k.ToString(), Show(ours));
        }

        private void Number(JsonElement k, object? ours, string path)
        {
            if (ours is double or float)
            {
                if (k.GetDouble() != Convert.ToDouble(ours, CultureInfo.InvariantCulture)) Diff(path, k.GetDouble().ToString("R", CultureInfo.InvariantCulture), Show(ours));
                return;
            }
            if (k.TryGetInt64(out var l))
            {
                if (Integer(ours) is not { } v || v != l) Diff(path, l.ToString(CultureInfo.InvariantCulture), Show(ours));
                return;
            }
            var d = k.GetDouble();
            var o = ours switch { double x => x, float f => f, _ => (double?)null };
            if (o is null || o.Value != d) Diff(path, d.ToString("R", CultureInfo.InvariantCulture), Show(ours));
        }

        private void Text(string s, object? ours, string path)
        {
            switch (ours)
            {
                case string str:
                    if (str == s) return;
                    if (str.Length == s.Length && Enumerable.Range(0, s.Length).All(i => str[i] == s[i] || str[i] == '?' && s[i] is >= '\u0080' and <= '\u00ff'))
                        OracleReport.Count(Report.KaitaiCannot, "ASCII text with octets 0x80-0xff (Kaitai's JS decodes them as Latin-1; .NET, like Kaitai's C# runtime, as '?')");
                    else if (CollapseReplacements(str) == CollapseReplacements(s))
                        OracleReport.Count(Report.KaitaiCannot, "malformed text replaced by a different number of U+FFFD (a cut surrogate pair: one in the WHATWG decoder Kaitai's JS uses, two in .NET's)");
                    else Diff(path, "\"" + s + "\"", "\"" + str + "\"");
                    return;
                case ReadOnlyMemory<byte> m:
                    if (Convert.ToHexStringLower(m.Span) != s) Diff(path, "octets " + Short(s), "octets " + Short(Convert.ToHexStringLower(m.Span)));
                    return;
                case byte[] a:
                    if (Convert.ToHexStringLower(a) != s) Diff(path, "octets " + Short(s), "octets " + Short(Convert.ToHexStringLower(a)));
                    return;
                case not null when IsUnknownCase(ours.GetType()):
                    // No case matched on either side: Kaitai keeps the octets as a byte array, we as the unknown case.
                    Text(s, ours.GetType().GetProperty("Bytes")!.GetValue(ours), path);
                    return;
                default:
                    Diff(path, "octets " + Short(s), Show(ours));
                    return;
            }
        }
    }

    private static readonly HashSet<string> CaseValueTypes = new(StringComparer.Ordinal)
        { "u1", "u2", "u4", "u8", "s1", "s2", "s4", "s8", "f4", "f8", "str", "strz" };

    private static bool IsCaseValue(Type t)
        => t.GetCustomAttribute<FgKsyNameAttribute>() is { } n && t.GetProperty("Value") is not null
           && (CaseValueTypes.Contains(n.Id.Length > 2 && (n.Id.EndsWith("le", StringComparison.Ordinal) || n.Id.EndsWith("be", StringComparison.Ordinal)) ? n.Id[..^2] : n.Id)
               || System.Text.RegularExpressions.Regex.IsMatch(n.Id, "^b[0-9]+(le|be)?$"));

    private static bool IsUnknownCase(Type t) => t.Name.EndsWith("Unknown", StringComparison.Ordinal) && t.GetProperty("Bytes")?.PropertyType == typeof(ReadOnlyMemory<byte>) && t.GetProperty("Key") is not null;

    /// <summary>Our properties by normalised name (lowercase, no underscores), with the name the ksy id had before the generator's "Value" suffix.</summary>
    private static Dictionary<string, PropertyInfo> Properties(Type t)
    {
        lock (PropertyCache)
        {
            if (PropertyCache.TryGetValue(t, out var d)) return d;
            d = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.GetIndexParameters().Length > 0) continue;
                if (p.Name == "Slack") continue; // ours, compared with Kaitai's $slack; a grammar field 'slack' is SlackValue
                d[Norm(p.Name)] = p;
            }
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!p.Name.EndsWith("Value", StringComparison.Ordinal) || p.Name.Length == 5) continue;
                var id = p.Name[..^5];
                if (id == t.Name || ReservedMembers.Contains(id)) d.TryAdd(Norm(id), p);
            }
            PropertyCache[t] = d;
            return d;
        }
    }

    public static string Norm(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();



    private static Int128? Integer(object? v) => v switch
    {
        byte x => x,
        sbyte x => x,
        ushort x => x,
        short x => x,
        uint x => x,
        int x => x,
        ulong x => x,
        long x => x,
        Enum e => Convert.GetTypeCode(e) is TypeCode.UInt64 ? (Int128)Convert.ToUInt64(e, CultureInfo.InvariantCulture) : (Int128)Convert.ToInt64(e, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static double ToDouble(Int128 v) => v >= 0 ? (double)(ulong)v : (double)(long)v;

    private static string CollapseReplacements(string s) => System.Text.RegularExpressions.Regex.Replace(s, "\uFFFD+", "\uFFFD");

    private static string Short(string hex) => hex.Length <= 64 ? (hex.Length == 0 ? "(none)" : hex) : hex[..64] + $"... ({hex.Length / 2} octets)";

    private static string Brief(JsonElement k)
    {
        var s = k.GetRawText();
        return s.Length <= 200 ? s : s[..200] + "...";
    }

    private static string Show(object? v) => v switch
    {
        null => "null",
        Threw t => "throws " + t.Error.GetType().Name + ": " + t.Error.Message,
        ReadOnlyMemory<byte> m => "octets " + Short(Convert.ToHexStringLower(m.Span)),
        byte[] a => "octets " + Short(Convert.ToHexStringLower(a)),
        Enum e => e + " (" + Integer(e)!.Value.ToString(CultureInfo.InvariantCulture) + ")",
        bool b => b ? "true" : "false",
        string s => "\"" + s + "\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ when IsUnknownCase(v.GetType()) => v.GetType().Name + " { Key = " + Show(v.GetType().GetProperty("Key")!.GetValue(v)) + ", Bytes = " + Show(v.GetType().GetProperty("Bytes")!.GetValue(v)) + " }",
        IEnumerable e => "a list of " + e.Cast<object?>().Count().ToString(CultureInfo.InvariantCulture),
        _ => "a " + v.GetType().Name,
    };
}
