using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using FormatGen.Runtime;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// Hostile input against code generated from grammars (issue 12): a size, a
/// count or a position that claims gigabytes in a few octets costs at most a
/// mebibyte to refuse, from memory, a stream or a pipe; types that contain
/// themselves, and instances that point at themselves, end in a typed error,
/// never in a stack overflow.
/// </summary>
public class GeneratedHostileInputTests
{
    /// <summary>Generates and compiles grammars given as text (path, text), with extra C# sources in the same assembly.</summary>
    internal static Assembly Compile(string name, (string Path, string Text)[] grammars, params string[] sources)
    {
        var (run, output) = GeneratorHarness.Generate(grammars.Select(g => (Microsoft.CodeAnalysis.AdditionalText)new GeneratorHarness.Text(g.Path, g.Text)), sources);
        Assert.Empty(run.Diagnostics);
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)));
        ms.Position = 0;
        return new AssemblyLoadContext(name, isCollectible: true).LoadFromStream(ms);
    }

    // Every shape of claim a grammar can make, one per case of a streamed element: a kind octet, then the claim.
    private const string ClaimsGrammar = """
        meta:
          id: claims
          endian: le
          -fg-namespace: Hostile.Claims
        seq:
          - id: items
            type: item
            repeat: until
            repeat-until: _.kind == 0
            -fg-stream: true
        types:
          item:
            seq:
              - id: kind
                type: u1
              - id: body
                type:
                  switch-on: kind
                  cases:
                    1: a_string
                    2: a_blob
                    3: numbers
                    4: pairs
                    5: chunks
                    6: names
                    7: maybes
                    8: at_pos
                    9: sized_instance
                    10: blobs_to_eos
                    11: blobs_until
          a_string:
            seq:
              - id: len
                type: u4
              - id: value
                type: str
                size: len
                encoding: UTF-8
          a_blob:
            seq:
              - id: len
                type: u4
              - id: value
                size: len
          numbers:
            seq:
              - id: count
                type: u4
              - id: values
                type: u2
                repeat: expr
                repeat-expr: count
          pairs:
            seq:
              - id: count
                type: u4
              - id: values
                type: pair
                repeat: expr
                repeat-expr: count
          pair:
            seq:
              - id: a
                type: u1
              - id: b
                type: u1
          chunks:
            seq:
              - id: count
                type: u4
              - id: values
                type: chunk
                repeat: expr
                repeat-expr: count
          chunk:
            seq:
              - id: len
                type: u1
              - id: data
                size: len
          names:
            seq:
              - id: count
                type: u4
              - id: width
                type: u1
              - id: values
                type: str
                size: width
                encoding: ASCII
                repeat: expr
                repeat-expr: count
          maybes:
            seq:
              - id: count
                type: u4
              - id: present
                type: u1
              - id: values
                type: maybe(present)
                repeat: expr
                repeat-expr: count
          maybe:
            params:
              - id: present
                type: u1
            seq:
              - id: value
                type: u1
                if: present != 0
          at_pos:
            seq:
              - id: pos
                type: u4
            instances:
              value:
                pos: pos
                type: u4
          sized_instance:
            seq:
              - id: len
                type: u4
            instances:
              value:
                pos: 0
                size: len
          blobs_to_eos:
            seq:
              - id: blobs
                type: a_blob
                repeat: eos
          blobs_until:
            seq:
              - id: blobs
                type: a_blob
                repeat: until
                repeat-until: _.len == 0
        """;

    // What a program using the generated code does, compiled into the grammar's assembly.
    private const string ClaimsDriver = """
        using System.IO;
        using System.IO.Pipelines;
        using FormatGen.Runtime;
        namespace Hostile.Claims;
        public static class Driver
        {
            public static void Memory(byte[] data) { foreach (var i in Claims.Read(data).Items) Touch(i); }
            public static System.Collections.Generic.IReadOnlyList<FgViolation> Check(byte[] data) => Claims.Validate(data);
            public static void Stream(Stream input, bool build)
            {
                using var r = new FgStreamReader<Item>(input, new ClaimsStreamGrammar());
                while (r.MoveNext(build)) Touch(r.Current);
            }
            public static void Pipe(PipeReader input)
            {
                using var r = new FgStreamReader<Item>(new FgSource(input), new ClaimsStreamGrammar());
                while (r.MoveNext()) Touch(r.Current);
            }
            // One structure read from a source that a program shares (FgSource.Read with the generated ReadCore).
            public static void Structure(Stream input)
            {
                using var s = new FgSource(input);
                Touch(s.Read((ref FgReader r) => Item.ReadCore(ref r, null, true, out _), true, 128 << 20, out _));
            }
            // Parse instances are read when asked: ask.
            private static void Touch(Item? i)
            {
                if (i?.Body is AtPos a) _ = a.Value;
                if (i?.Body is SizedInstance s) _ = s.Value;
            }
        }
        """;

    private static readonly Lazy<Type> Driver = new(() =>
        Compile("claims", new[] { ("/g/claims.ksy", ClaimsGrammar) }, ClaimsDriver).GetType("Hostile.Claims.Driver")!);

    private static readonly string[] Shapes = { "string", "blob", "u2s", "pairs", "chunks", "names", "maybes", "pos", "instance size", "eos", "until" };

    /// <summary>
    /// A streamed element of the shape claiming <paramref name="size"/>, then 16 zero octets (data for
    /// the claim, then an element of kind 0, which ends the stream) and nothing more.
    /// </summary>
    private static byte[] Claim(string shape, uint size)
    {
        var claim = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(claim, size);
        byte[] head = shape switch
        {
            "string" => [1, .. claim],
            "blob" => [2, .. claim],
            "u2s" => [3, .. claim],
            "pairs" => [4, .. claim],
            "chunks" => [5, .. claim],
            "names" => [6, .. claim, 1],    // one-octet names
            "maybes" => [7, .. claim, 1],   // each one present: one octet
            "pos" => [8, .. claim],
            "instance size" => [9, .. claim],
            "eos" => [10, .. claim],
            "until" => [11, .. claim],
            _ => throw new ArgumentException(shape),
        };
        return [.. head, .. new byte[16]];
    }

    /// <summary>The field whose claim is refused, as the end of the error's field path.</summary>
    private static string ClaimedField(string shape) => shape switch
    {
        "string" or "blob" or "pos" or "instance size" => "value",
        "maybes" => "values[16].value",  // 16 elements are there
        "eos" or "until" => "blobs[0].value",
        _ => "values",
    };

    private static readonly string[] Inputs = { "memory", "check", "stream", "stream check", "pipe", "structure" };

    private static void Read(string input, byte[] data)
    {
        var d = Driver.Value;
        switch (input)
        {
            case "memory": d.GetMethod("Memory")!.Invoke(null, new object[] { data }); break;
            case "check":
                // Validate reports the error as a violation: raise it as the error it is.
                var found = (System.Collections.Generic.IReadOnlyList<FgViolation>)d.GetMethod("Check")!.Invoke(null, new object[] { data })!;
                if (found.Count > 0) throw new TargetInvocationException(FgException.Of(found[0]));
                break;
            case "stream": d.GetMethod("Stream")!.Invoke(null, new object[] { Streams.Trickle(data, 7), true }); break;
            case "stream check": d.GetMethod("Stream")!.Invoke(null, new object[] { Streams.Trickle(data, 7), false }); break;
            case "pipe": d.GetMethod("Pipe")!.Invoke(null, new object[] { System.IO.Pipelines.PipeReader.Create(Streams.Trickle(data, 7)) }); break;
            default: d.GetMethod("Structure")!.Invoke(null, new object[] { Streams.Trickle(data, 7) }); break;
        }
    }

    /// <summary>The typed error a read ends in (null when it read everything), and the octets it allocated.</summary>
    private static (FgException? Error, long Allocated) Measure(string input, byte[] data)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        FgException? error = null;
        try { Read(input, data); }
        catch (TargetInvocationException e) when (e.InnerException is FgException fg) { error = fg; }
        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>
    /// The claim is refused with the typed error naming its field (a check without models reads no
    /// parse instance, so it never meets the claims of instances).
    /// </summary>
    private static void AssertRefused(string shape, string input, uint size, FgException? error)
    {
        if (shape is "pos" or "instance size" && input is "check" or "stream check")
        {
            Assert.Null(error);
            return;
        }
        Assert.True(error is not null, $"{shape} claiming {size} ({input}) was read");
        Assert.Contains(error!.Rule, new[] { "truncated", "bad-size", "bad-count", "bad-pos", "record-length-limit" });
        // A count is refused before any element is read.
        var field = error.Rule == "bad-count" ? "values" : ClaimedField(shape);
        // A stream reader refuses an element over its limit (128 MiB) as soon as a field asks for that much:
        // the error is the element's, at its start.
        if (error.Rule == "record-length-limit") Assert.Equal(("(record)", 0L), (error.FieldPath, error.Offset));
        else Assert.True(error.FieldPath.EndsWith(field, StringComparison.Ordinal), $"{shape} ({input}): {error.Message}");
    }

    public static TheoryData<string, string> ShapesAndInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var s in Shapes) foreach (var i in Inputs) data.Add(s, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndInputs))]
    public void A_claim_of_4_GiB_is_refused_naming_its_field_and_offset(string shape, string input)
    {
        var data = Claim(shape, uint.MaxValue - 1);
        Measure(input, data); // warm
        var (error, allocated) = Measure(input, data);
        Assert.True(allocated < 1 << 20, $"{allocated} octets allocated");
        AssertRefused(shape, input, uint.MaxValue - 1, error);
        if (error is null) return;
        // Where the claimed field starts: after the kind and the claim, or where its 17th element would.
        long offset = shape switch { "names" or "maybes" => 22, "pos" or "instance size" => 0, _ => 5 };
        if (error.Rule != "bad-count") Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void A_claim_of_gigabytes_in_a_few_octets_allocates_at_most_a_mebibyte_from_memory_a_stream_or_a_pipe()
    {
        // Sizes from 2^20 to 2^32 - 1.
        var sizes = Gen.Choose(20, 31).SelectMany(b => Gen.Choose(0, int.MaxValue).Select(r => (uint)((1L << b) + r % (1L << b))));
        Prop.ForAll(Gen.Elements(Shapes).ToArbitrary(), Gen.Elements(Inputs).ToArbitrary(), sizes.ToArbitrary(), (shape, input, size) =>
        {
            var data = Claim(shape, size);
            Measure(input, data); // warm: the first read of a kind builds its tables and delegates once
            var (error, allocated) = Measure(input, data);
            Assert.True(allocated < 1 << 20, $"{shape} claiming {size} ({input}): {allocated} octets allocated");
            AssertRefused(shape, input, size, error);
        }).QuickCheckThrowOnFailure();
    }

    // Elements that take no octets: a count of them is not bounded by the input, and nested, 4 octets asked for 2^48.
    private const string EmptiesGrammar = """
        meta:
          id: empties
          endian: le
          -fg-namespace: Hostile.Empties
        seq:
          - id: count
            type: u4
          - id: rows
            type: row
            repeat: expr
            repeat-expr: count
        types:
          row:
            seq:
              - id: cells
                type: cell
                repeat: expr
                repeat-expr: _root.count
          cell:
            seq:
              - id: value
                type: u1
                if: _root.count == 0
        """;

    [Fact]
    public void Elements_that_take_no_octets_are_bounded_per_read_even_nested()
    {
        var t = Compile("empties", new[] { ("/g/empties.ksy", EmptiesGrammar) }).GetType("Hostile.Empties.Empties")!;
        // Legitimately small: 4 rows of 4 cells, none of which takes an octet.
        var small = LanguageTests.Read(t, [4, 0, 0, 0]);
        var rows = (System.Collections.IList)LanguageTests.Get(small, "Rows")!;
        Assert.Equal(4, rows.Count);
        Assert.Equal(4, ((System.Collections.IList)LanguageTests.Get(rows[3]!, "Cells")!).Count);
        Assert.Empty(LanguageTests.Validate(t, [4, 0, 0, 0]));
        // 2^24 rows of 2^24 cells (this used to run for days): refused after 2^20 empty elements.
        var v = Assert.Single(LanguageTests.Validate(t, [0, 0, 0, 1]));
        Assert.Equal("error: bad-count: field rows[0].cells, offset 4 (0x4): more than 1048576 elements that take no octets in one read", v);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Read(t, [0, 4, 0, 0]));
        var fg = Assert.IsType<FgException>(e.InnerException);
        Assert.Equal("bad-count", fg.Rule);
        Assert.Equal("rows[1023].cells", fg.FieldPath);
    }

    // ---- types that contain themselves ----

    private const string Endless = """
        meta:
          id: endless
          endian: le
        seq:
          - id: head
            type: u1
          - id: next
            type: other
        types:
          other:
            seq:
              - id: back
                type: endless
                repeat: until
                repeat-until: true
        """;

    public static TheoryData<string, string, string> EndlessTypes() => new()
    {
        { "direct", "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: t\n", "t.b -> t" },
        { "through another type, repeat until (one element at least)", Endless.Replace("id: endless", "id: t").Replace("type: endless", "type: t"), "t.next -> other.back -> t" },
        { "a constant count", "seq:\n  - id: a\n    type: n\ntypes:\n  n:\n    seq:\n      - id: kids\n        type: n\n        repeat: expr\n        repeat-expr: 2\n", "n.kids -> n" },
        { "under a parse instance", "seq:\n  - id: a\n    type: u1\ninstances:\n  i:\n    pos: 0\n    type: n\ntypes:\n  n:\n    seq:\n      - id: x\n        type: n\n", "n.x -> n" },
    };

    [Theory]
    [MemberData(nameof(EndlessTypes))]
    public void A_type_that_contains_itself_whatever_its_input_says_is_refused_when_generated(string what, string grammar, string cycle)
    {
        if (!grammar.StartsWith("meta:", StringComparison.Ordinal)) grammar = "meta:\n  id: t\n  endian: le\n" + grammar;
        var (run, _) = GeneratorHarness.Generate("/g/t.ksy", grammar);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("FG0021", d.Id);
        Assert.Contains("(" + cycle + ")", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(run.GeneratedSources.IsEmpty, what);
    }

    public static TheoryData<string, string> TypesWithAWayOut() => new()
    {
        { "if", "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: t\n    if: a != 0\n" },
        { "repeat eos", "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: t\n    size: a\n    repeat: eos\n" },
        { "a count from the input", "seq:\n  - id: a\n    type: u1\n  - id: b\n    type: t\n    repeat: expr\n    repeat-expr: a\n" },
        { "a switch", "seq:\n  - id: a\n    type: u1\n  - id: b\n    type:\n      switch-on: a\n      cases:\n        1: t\n" },
        { "a parse instance", "seq:\n  - id: a\n    type: u1\ninstances:\n  again:\n    pos: 0\n    type: t\n" },
    };

    [Theory]
    [MemberData(nameof(TypesWithAWayOut))]
    public void A_type_that_contains_itself_with_a_way_out_is_generated(string what, string grammar)
    {
        var (run, output) = GeneratorHarness.Generate("/g/t.ksy", "meta:\n  id: t\n  endian: le\n" + grammar);
        Assert.True(run.Diagnostics.IsEmpty, what + ": " + string.Join("\n", run.Diagnostics));
        Assert.Empty(GeneratorHarness.Errors(output));
    }

    // A tree whose nodes say whether a child follows, and one whose nodes count their children.
    private const string Trees = """
        meta:
          id: trees
          endian: le
          -fg-namespace: Hostile.Trees
        seq:
          - id: kind
            type: u1
          - id: chain
            type: node
            if: kind == 0
          - id: list
            type: branch
            if: kind == 1
        types:
          node:
            seq:
              - id: more
                type: u1
              - id: child
                type: node
                if: more != 0
          branch:
            seq:
              - id: count
                type: u1
              - id: children
                type: branch
                repeat: expr
                repeat-expr: count
        """;

    private static readonly Lazy<Assembly> TreesAssembly = new(() => Compile("trees", new[] { ("/g/trees.ksy", Trees) }));

    private static Type TreesType => TreesAssembly.Value.GetType("Hostile.Trees.Trees")!;

    /// <summary>A tree of <paramref name="depth"/> one-octet levels (each but the last says: one child), after the kind octet.</summary>
    private static byte[] DeepTree(byte kind, int depth) => [kind, .. Enumerable.Repeat((byte)1, depth - 1), 0];

    /// <summary>Runs <paramref name="read"/> on a thread of its own with a stack of <paramref name="kib"/> KiB; what it throws comes back.</summary>
    private static Exception? OnStack(int kib, Action read)
    {
        Exception? thrown = null;
        var thread = new System.Threading.Thread(() =>
        {
            try { read(); }
            catch (Exception e) { thrown = e is TargetInvocationException { InnerException: { } inner } ? inner : e; }
        }, kib << 10);
        thread.Start();
        thread.Join();
        return thrown;
    }

    [Theory]
    [InlineData((byte)0, "chain", "child")]
    [InlineData((byte)1, "list", "children[0]")]
    public void A_tree_a_mebibyte_deep_is_refused_at_the_depth_bound_naming_the_field_and_offset(byte kind, string top, string step)
    {
        var t = TreesType;
        string type = kind == 0 ? "node" : "branch";
        // At the bound: read and validated.
        LanguageTests.Read(t, DeepTree(kind, FgReader.MaxNesting));
        Assert.Empty(LanguageTests.Validate(t, DeepTree(kind, FgReader.MaxNesting)));
        // A mebibyte of levels (a stack overflow, which ends the process, without the bound):
        // the level past the bound is refused where it starts, octet 513.
        var deep = DeepTree(kind, 1 << 20);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Read(t, deep));
        var fg = Assert.IsType<FgException>(e.InnerException);
        Assert.Equal("too-deep", fg.Rule);
        Assert.Equal(top + string.Concat(Enumerable.Repeat("." + step, FgReader.MaxNesting)) + "." + type, fg.FieldPath);
        Assert.Equal(1 + FgReader.MaxNesting, fg.Offset);
        Assert.EndsWith("'" + type + "' nests deeper than 512 levels (or than this thread's stack allows)", fg.Message);
        var v = Assert.Single(LanguageTests.Validate(t, deep));
        Assert.StartsWith("error: too-deep: field " + top + "." + step + "." + step, v);
        Assert.Contains("offset 513 (0x201)", v);
    }

    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)1)]
    public void A_tree_a_mebibyte_deep_is_refused_on_a_thread_with_a_small_stack(byte kind)
    {
        var t = TreesType;
        var deep = DeepTree(kind, 1 << 20);
        // 256 KiB runs out before 512 levels: the stack's own check stops the reader, and the error
        // leaves the levels without taking stack at each (it used to overflow it on its way out).
        foreach (var read in new Action[] { () => LanguageTests.Read(t, deep), () => Assert.Single(LanguageTests.Validate(t, deep), v => v.Contains("too-deep")) })
        {
            var thrown = OnStack(256, read);
            if (thrown is null) continue; // Validate reported it
            var fg = Assert.IsType<FgException>(thrown);
            Assert.Equal("too-deep", fg.Rule);
        }
    }

    /// <summary>A chain of <paramref name="depth"/> nodes built by hand.</summary>
    private static object HandBuilt(int depth)
    {
        var node = TreesAssembly.Value.GetType("Hostile.Trees.Node")!;
        object? child = null;
        for (int i = 0; i < depth; i++)
        {
            var n = Activator.CreateInstance(node)!;
            node.GetProperty("More")!.SetValue(n, (byte)(child is null ? 0 : 1));
            node.GetProperty("Child")!.SetValue(n, child);
            child = n;
        }
        var root = Activator.CreateInstance(TreesType)!;
        TreesType.GetProperty("Chain")!.SetValue(root, child);
        return root;
    }

    [Fact]
    public void A_model_built_by_hand_nested_deeper_than_any_reader_reads_is_refused_by_writers_and_never_overflows_the_stack()
    {
        // Deeper than a reader reads: the writer says so (and would otherwise write what no reader reads back).
        var over = HandBuilt(FgReader.MaxNesting + 1);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Write(over, verify: false));
        var fw = Assert.IsType<FgWriteException>(e.InnerException);
        Assert.Equal("node: 'node' nests deeper than 512 levels (or than this thread's stack allows), which no reader reads back", fw.Message);
        Assert.Equal(over, HandBuilt(FgReader.MaxNesting + 1));
        Assert.StartsWith("Trees { kind=0, chain=more=1, child=more=1, child=more=1", over.ToString());
        // At the bound it is written, and reads back equal.
        var ok = HandBuilt(FgReader.MaxNesting);
        Assert.Equal(ok, LanguageTests.Read(TreesType, LanguageTests.Write(ok)));
        // 200,000 levels (each of these overflowed the stack, ending the process): exceptions.
        var deep = HandBuilt(200_000);
        Assert.IsType<FgWriteException>(Assert.Throws<TargetInvocationException>(() => LanguageTests.Write(deep, verify: false)).InnerException);
        Assert.Throws<InsufficientExecutionStackException>(() => deep.ToString());
        Assert.Throws<InsufficientExecutionStackException>(() => deep.Equals(HandBuilt(200_000)));
        Assert.Throws<InsufficientExecutionStackException>(() => deep.GetHashCode());
    }

    // ---- parse instances that point at themselves ----

    private const string SelfInstances = """
        meta:
          id: selfie
          endian: le
          -fg-namespace: Hostile.Selfie
        seq:
          - id: a
            type: u1
        instances:
          me:
            pos: 0
            type: selfie
          other:
            pos: 0
            type: other
        types:
          other:
            seq:
              - id: x
                type: u1
            instances:
              back:
                pos: 0
                type: selfie
        """;

    // The same, but a field's condition reads the instance: reading the type reads the instance, which reads the type...
    private const string EagerSelfInstances = """
        meta:
          id: eager
          endian: le
          -fg-namespace: Hostile.Eager
        seq:
          - id: a
            type: u1
          - id: b
            type: u1
            if: me.a == 1
          - id: c
            type: u1
            if: other.x == 2
        instances:
          me:
            pos: 0
            type: eager
          other:
            pos: 1
            type: other
        types:
          other:
            seq:
              - id: x
                type: u1
              - id: y
                type: u1
                if: back.a == 3
            instances:
              back:
                pos: 0
                type: eager
        """;

    [Fact]
    public void A_parse_instance_of_its_own_type_at_its_own_position_is_read_when_asked_and_nothing_walks_it()
    {
        var t = Compile("selfie", new[] { ("/g/selfie.ksy", SelfInstances) }).GetType("Hostile.Selfie.Selfie")!;
        var m = LanguageTests.Read(t, [7]);
        // Lazy: each step reads one more model; none reads further by itself.
        var at = m;
        for (int i = 0; i < 10_000; i++) at = LanguageTests.Get(at, "Me")!;
        Assert.Equal((byte)7, LanguageTests.Get(at, "A"));
        Assert.Equal((byte)7, LanguageTests.Get(LanguageTests.Get(LanguageTests.Get(m, "Other")!, "Back")!, "A"));
        // Printing, comparing, hashing, writing and validating read no instance.
        Assert.Equal("Selfie { a=7 }", m.ToString());
        Assert.Equal(m, at);
        Assert.Equal(m.GetHashCode(), at.GetHashCode());
        Assert.Equal(new byte[] { 7 }, LanguageTests.Write(m));
        Assert.Empty(LanguageTests.Validate(t, [7]));
    }

    [Fact]
    public void A_parse_instance_that_reading_its_own_type_needs_is_refused_at_the_depth_bound_not_by_a_stack_overflow()
    {
        // Each level reads the instance, whose reader is another reader: the levels are counted per
        // thread, across readers (counted per reader, they overflowed the stack and ended the process).
        var t = Compile("eager", new[] { ("/g/eager.ksy", EagerSelfInstances) }).GetType("Hostile.Eager.Eager")!;
        foreach (var data in new[] { new byte[] { 1, 2, 3 }, new byte[1 << 16] })
        {
            var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Read(t, data));
            var fg = Assert.IsType<FgException>(e.InnerException);
            Assert.Equal("too-deep", fg.Rule);
            Assert.Equal(string.Join(".", Enumerable.Repeat("me", FgReader.MaxNesting)) + ".eager", fg.FieldPath);
            Assert.StartsWith("error: too-deep: field me.me.me.", Assert.Single(LanguageTests.Validate(t, data)));
            // On a small stack, the stack's own check.
            var thrown = OnStack(256, () => LanguageTests.Read(t, data));
            Assert.Equal("too-deep", Assert.IsType<FgException>(thrown).Rule);
        }
    }
}
