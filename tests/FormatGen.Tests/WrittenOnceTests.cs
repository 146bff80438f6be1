using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// Record layouts live only in the grammar. A new record type added to a copy
/// of libxc.ksy is read, written, validated and shown by dump, with every
/// hand-written file (runtime/FormatGen.Xen and cli) compiled unchanged.
/// </summary>
public class WrittenOnceTests
{
    private static string ExtendedGrammar()
    {
        var g = File.ReadAllText(RepoPaths.Libxc);
        string Once(string text, string anchor, string replacement)
        {
            Assert.Contains(anchor, text);
            return text.Replace(anchor, replacement);
        }
        g = Once(g, "    0x12: x86_msr_policy\n", "    0x12: x86_msr_policy\n    0x13: test_extension\n");
        g = Once(g, "                'record_type::x86_msr_policy': x86_msr_policy\n",
            "                'record_type::x86_msr_policy': x86_msr_policy\n                'record_type::test_extension': test_extension\n");
        g = Once(g, "(version >= 3 ? 0x12 : 0x0f)", "(version >= 3 ? 0x13 : 0x0f)");
        g = Once(g, "      cpuid_leaf:\n", string.Join("\n",
            "      test_extension:",
            "        doc: A record type that exists only in this test.",
            "        seq:",
            "          - id: widgets",
            "            type: u4",
            "          - id: level",
            "            type: u2",
            "            valid:",
            "              any-of: [1, 2, 3]",
            "            -fg-rule: test-level",
            "          - id: reserved",
            "            type: u2",
            "            valid: 0",
            "        -fg-checks:",
            "          - rule: test-length",
            "            expr: _io.size == 8",
            "",
            "      cpuid_leaf:",
            ""));
        return g;
    }

    private static Assembly Compile()
    {
        var hand = Directory.GetFiles(Path.Combine(RepoPaths.Root, "runtime", "FormatGen.Xen"), "*.cs")
            .Concat(Directory.GetFiles(Path.Combine(RepoPaths.Root, "cli"), "*.cs"))
            .Select(File.ReadAllText).ToArray();
        // Every other grammar the library is built from, unchanged: the containers import libxc and
        // are generated over the extended grammar too.
        var texts = new AdditionalText[] { new GeneratorHarness.Text("/g/libxc.ksy", ExtendedGrammar()) }
            .Concat(Directory.GetFiles(Path.Combine(RepoPaths.Root, "grammar", "xen"), "*.ksy").Where(f => Path.GetFileName(f) != "libxc.ksy").Order(StringComparer.Ordinal)
                .Select(f => new GeneratorHarness.Text("/g/" + Path.GetFileName(f), File.ReadAllText(f))))
            .ToArray();
        // The CLI's dump --json objects come from System.Text.Json's source generator: run it too, as the build does.
        var driver = CSharpGeneratorDriver.Create(new[] { new FormatGen.Generator.FormatGenGenerator().AsSourceGenerator() }.Concat(SystemTextJsonGenerators()),
            texts, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = GeneratorHarness.Compilation(hand)
            .AddReferences(new[] { typeof(System.CommandLine.RootCommand), typeof(System.Net.Sockets.Socket), typeof(System.ComponentModel.Win32Exception) }
                .Select(t => t.Assembly.Location)
                .Append(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "Microsoft.Win32.Primitives.dll"))
                .Select(p => MetadataReference.CreateFromFile(p)));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var genDiags);
        Assert.Empty(genDiags);
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        ms.Position = 0;
        return new AssemblyLoadContext("extended-libxc", isCollectible: true).LoadFromStream(ms);
    }

    /// <summary>System.Text.Json's source generator, from the SDK's targeting pack of the running runtime.</summary>
    private static System.Collections.Generic.IEnumerable<ISourceGenerator> SystemTextJsonGenerators()
    {
        var shared = Path.GetDirectoryName(typeof(object).Assembly.Location)!;               // .../shared/Microsoft.NETCore.App/10.0.x
        var root = Path.GetFullPath(Path.Combine(shared, "..", "..", ".."));
        var version = Path.GetFileName(shared);
        var dll = Directory.GetFiles(Path.Combine(root, "packs", "Microsoft.NETCore.App.Ref", version, "analyzers"), "System.Text.Json.SourceGeneration.dll", SearchOption.AllDirectories)
            .OrderByDescending(p => p, StringComparer.Ordinal).First();
        return new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(dll, new GeneratorAssemblyLoader()).GetGenerators(LanguageNames.CSharp);
    }

    private sealed class GeneratorAssemblyLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath) { }
        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }

    private static object New(Assembly asm, string type, params (string Name, object Value)[] props)
    {
        var t = asm.GetType("FormatGen.Xen.Libxc." + type, throwOnError: true)!;
        var o = Activator.CreateInstance(t)!;
        foreach (var (name, value) in props)
        {
            var p = t.GetProperty(name)!;
            var v = p.PropertyType.IsEnum ? Enum.ToObject(p.PropertyType, value) : Convert.ChangeType(value, p.PropertyType, System.Globalization.CultureInfo.InvariantCulture);
            p.SetValue(o, v);
        }
        return o;
    }

    [Fact]
    public void A_record_type_added_to_the_grammar_is_read_written_validated_and_dumped()
    {
        var asm = Compile();
        Assert.NotNull(asm.GetType("FormatGen.Xen.Libxc.TestExtension"));

        // Written: by the generated stream writer, lengths and keys derived.
        var image = new MemoryStream();
        var writer = Activator.CreateInstance(asm.GetType("FormatGen.Xen.Libxc.LibxcStreamWriter")!, image,
            New(asm, "ImageHeader", ("Version", 3u)),
            New(asm, "DomainHeader", ("Type", 2UL), ("PageShift", (ushort)12)))!;
        var write = writer.GetType().GetMethod("Write")!;
        object Rec(object body) { var r = New(asm, "Record"); r.GetType().GetProperty("Body")!.SetValue(r, body); return r; }
        write.Invoke(writer, new[] { Rec(New(asm, "StaticDataEnd")) });
        write.Invoke(writer, new[] { Rec(New(asm, "TestExtension", ("Widgets", 7u), ("Level", (ushort)2))) });
        // What an HVM restore needs besides: parameters, then the context.
        write.Invoke(writer, new[] { Rec(New(asm, "HvmParams")) });
        var context = New(asm, "HvmContext");
        context.GetType().GetProperty("Data")!.SetValue(context, (ReadOnlyMemory<byte>)new byte[16]);
        write.Invoke(writer, new[] { Rec(context) });
        write.Invoke(writer, new[] { Rec(New(asm, "End")) });
        var bytes = image.ToArray();
        Assert.Equal(0x13u, BitConverter.ToUInt32(bytes, 40 + 8));
        Assert.Equal(8u, BitConverter.ToUInt32(bytes, 40 + 12));

        // Read: the new body type comes back with its fields.
        var readerType = asm.GetType("FormatGen.Xen.LibxcReader")!;
        using (var reader = (IDisposable)Activator.CreateInstance(readerType, new MemoryStream(bytes), null)!)
        {
            var moveNext = readerType.GetMethod("MoveNext", new[] { typeof(bool) })!;
            Assert.True((bool)moveNext.Invoke(reader, new object[] { true })!);
            Assert.True((bool)moveNext.Invoke(reader, new object[] { true })!);
            var body = readerType.GetProperty("Current")!.GetValue(reader)!.GetType().GetProperty("Body")!.GetValue(readerType.GetProperty("Current")!.GetValue(reader));
            Assert.Equal("TestExtension", body!.GetType().Name);
            Assert.Equal(7u, body.GetType().GetProperty("Widgets")!.GetValue(body));
            var violations = (System.Collections.IEnumerable)readerType.GetProperty("Violations")!.GetValue(reader)!;
            Assert.Empty(violations.Cast<object>());
        }

        // Validated: a broken level is reported under the grammar's rule name.
        var bad = (byte[])bytes.Clone();
        bad[40 + 8 + 8 + 4] = 9;
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, bad);
        try
        {
            var verify = asm.GetType("FormatGen.Cli.VerifyCommand")!.GetMethod("Run", BindingFlags.Static | BindingFlags.Public)!;
            var sw = new StringWriter();
            Assert.Equal(1, verify.Invoke(null, new object?[] { path, false, false, 128L << 20, sw }));
            Assert.Contains("test-level: record 1 (TEST_EXTENSION), field body.level", sw.ToString());

            // Shown by dump.
            File.WriteAllBytes(path, bytes);
            var dump = asm.GetType("FormatGen.Cli.DumpCommand")!.GetMethod("Run", BindingFlags.Static | BindingFlags.Public)!;
            var outStream = new MemoryStream();
            Assert.Equal(0, dump.Invoke(null, new object?[] { path, false, false, 128L << 20, outStream }));
            var text = System.Text.Encoding.UTF8.GetString(outStream.ToArray());
            Assert.Matches(@"1 0x0000000030 TEST_EXTENSION\s+8  widgets=7, level=2", text);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Without_the_grammar_change_the_same_record_is_an_unknown_mandatory_record()
    {
        var image = Streams.Of(FormatGen.Xen.Libxc.DomainType.X86Hvm, 3, false, new FormatGen.Xen.Libxc.StaticDataEnd());
        image = Streams.Splice(image, 1, Streams.Raw(0x13, new byte[] { 7, 0, 0, 0, 2, 0, 0, 0 }), replace: false);
        var (violations, _, _) = Streams.Verify(image);
        Assert.Contains(violations, v => v.Rule == "record-unknown-mandatory" && v.RecordIndex == 1);
    }
}
