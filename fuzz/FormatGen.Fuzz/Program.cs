using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using FormatGen.Fuzz.Grammars;
using FormatGen.Generator;
using FormatGen.Runtime;
using FormatGen.Xen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using SharpFuzz;

namespace FormatGen.Fuzz;

/// <summary>
/// AFL++ harnesses, one per target: any input must be read or refused with the
/// library's own error types (FgException; the generator: diagnostics). Any other
/// exception, a hang or a crash is a finding.
///   fuzz/run.sh TARGET [SECONDS]                        fuzz with AFL++ (installs it if missing)
///   dotnet FormatGen.Fuzz.dll TARGET --replay DIR|FILE  run saved inputs through the target
/// Targets: libxc, containers, legacy, grammar, generated.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new()
    {
        ["libxc"] = Libxc,
        ["containers"] = Containers,
        ["legacy"] = Legacy,
        ["grammar"] = Grammar,
        ["generated"] = Generated,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine("usage: FormatGen.Fuzz TARGET [--replay DIR|FILE]; targets: " + string.Join(", ", Targets.Keys));
            return 2;
        }
        if (args.Length == 3 && args[1] == "--seed")
        {
            Seed(args[0], args[2]);
            return 0;
        }
        if (args.Length == 3 && args[1] == "--replay")
        {
            var files = Directory.Exists(args[2]) ? Directory.GetFiles(args[2]).Where(f => !f.EndsWith("README.txt", StringComparison.Ordinal)).ToArray() : [args[2]];
            foreach (var file in files) target(File.ReadAllBytes(file));
            Console.WriteLine($"{args[0]}: replayed {files.Length} input(s) without a finding");
            return 0;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            target(ms.ToArray());
        });
        return 0;
    }

    /// <summary>Seeds the run script cannot make with xenstream: valid inputs of the generated reader.</summary>
    private static void Seed(string target, string dir)
    {
        Directory.CreateDirectory(dir);
        if (target != "generated") return;
        var packed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(packed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            z.Write("hello, hello, hello"u8);
        // fuzz_target.ksy's fields, big-endian, as a writer lays them out.
        var b = new List<byte>();
        void U2(int v) { b.Add((byte)(v >> 8)); b.Add((byte)v); }
        void U4(long v) { U2((int)(v >> 16)); U2((int)v); }
        void Name(string t) { b.Add((byte)t.Length); b.AddRange(Encoding.UTF8.GetBytes(t)); }
        b.AddRange("FZ"u8.ToArray());
        b.Add((1 << 5) | 5);                 // version 1 (b3), flags 5 (b5)
        Name("fuzz");
        b.AddRange("label\0"u8.ToArray());
        U2(2);
        b.Add((7 << 4) | (1 << 3)); U4(70000); Name("seven");   // kind 7, wide: a u4, then a note
        b.Add(1 << 4); b.Add(3);                               // kind 1, narrow: a u1
        b.Add(0x5a);
        U2(3); b.AddRange(new byte[] { 1 ^ 0x5a, 2 ^ 0x5a, 3 ^ 0x5a });
        var zipped = packed.ToArray();
        U4(zipped.Length); b.AddRange(zipped);
        U4(b.Count + 4 + 4);                 // the table follows the fields
        b.AddRange(new byte[] { 3, 2, 1, 0 });  // the tree: four levels
        U2(1); U2(4); Name("abc");
        U2(2); U2(1); Name("");
        var bytes = b.ToArray();
        if (FuzzTarget.Validate(bytes) is { Count: > 0 } v) throw new InvalidOperationException("the seed breaks its grammar: " + v[0]);
        File.WriteAllBytes(Path.Combine(dir, "generated.bin"), bytes);
    }

    // Made when used: the runtime is instrumented, and its code may run only inside the fuzzing loop.
    private static FgStreamOptions Small => new() { MaxElementLength = 1 << 20 };

    /// <summary>(a) The libxc reader, the grammar's rules and the layout rules, with and without models.</summary>
    public static void Libxc(byte[] input)
    {
        foreach (var build in new[] { false, true })
        {
            try
            {
                using var r = new LibxcReader(new MemoryStream(input), Small);
                r.ReadHeaders();
                while (r.MoveNext(build))
                    if (build && r.Current is { } rec) _ = RecordSummary.Of(rec);
            }
            catch (FgException) { }
        }
        _ = FormatGen.Xen.Libxc.Libxc.Validate(input);
    }

    /// <summary>(b) Detection, the libxl and xl containers, checkpointed streams, dump's summaries and the vCPU state, and one pfn's history.</summary>
    public static void Containers(byte[] input)
    {
        try
        {
            using var r = new XenReader(new MemoryStream(input), null, Small);
            while (r.MoveNext(RecordSummary.NeedsModel))
            {
                if (r.Kind != XenItemKind.Record) continue;
                var summary = new System.Buffers.ArrayBufferWriter<byte>();
                RecordSummary.Write(r, summary);
                if (r.Layer == XenLayer.Libxc && r.LibxcType is FormatGen.Xen.Libxc.RecordType.HvmContext or FormatGen.Xen.Libxc.RecordType.X86PvVcpuBasic)
                    _ = VcpuDecoder.Describe(r.LibxcType, r.CurrentBytes[Math.Min(r.CurrentBytes.Length, 8)..], r.Libxc!.LittleEndian, r.Libxc.GuestWidth);
            }
        }
        catch (FgException) { }
        try
        {
            using var r = new XenReader(new MemoryStream(input), null, Small);
            _ = GuestMemory.History(r, 1);
        }
        catch (FgException) { }
    }

    /// <summary>(c) The legacy reader and converter, to a libxc and to a libxl stream; the input is never changed.</summary>
    public static void Legacy(byte[] input)
    {
        var copy = (byte[])input.Clone();
        foreach (var format in new[] { LegacyOutputFormat.Libxc, LegacyOutputFormat.Libxl })
        {
            try
            {
                LegacyConverter.Convert(input, new MemoryStream(), new LegacyOptions { Format = format });
            }
            catch (FgException) { }
        }
        if (!copy.AsSpan().SequenceEqual(input)) throw new InvalidOperationException("the converter changed its input");
    }

    private static readonly CSharpCompilation Empty = CSharpCompilation.Create("Fuzz", [], [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)],
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    private sealed class Text(string path, string content) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(content);
    }

    /// <summary>
    /// (d) The generator's front end: YAML and expressions in, diagnostics out. The input is a
    /// grammar, and (after a line "---8<---") a second one it may import as "other".
    /// </summary>
    public static void Grammar(byte[] input)
    {
        var text = Encoding.UTF8.GetString(input);
        var parts = text.Split("---8<---\n", 2);
        var texts = new List<AdditionalText> { new Text("/fuzz/main.ksy", parts[0]) };
        if (parts.Length > 1) texts.Add(new Text("/fuzz/other.ksy", parts[1]));
        var driver = CSharpGeneratorDriver.Create([new FormatGenGenerator().AsSourceGenerator()], texts, new CSharpParseOptions(LanguageVersion.Latest));
        var result = driver.RunGenerators(Empty).GetRunResult().Results.Single();
        // Roslyn catches what a generator throws and reports it as a warning: here it is a finding.
        if (result.Exception is { } e) throw new InvalidOperationException("the generator threw", e);
    }

    /// <summary>(e) A generated reader (strings, bit fields, a parse instance, process, imports): read, validated, written back.</summary>
    public static void Generated(byte[] input)
    {
        _ = FuzzTarget.Validate(input);
        try
        {
            var model = FuzzTarget.Read(input);
            _ = model.Table;
            _ = model.Summary();
            try
            {
                // What was read writes back to the same octets, or the writer refuses it with its own error.
                var again = model.ToArray(verify: false);
                if (!again.AsSpan().SequenceEqual(input) && FuzzTarget.Validate(input).Count == 0 && FuzzTarget.Read(again) != model)
                    throw new InvalidOperationException("a valid input did not read back from what it wrote");
            }
            catch (FgWriteException) { }
        }
        catch (FgException) { }
    }
}
