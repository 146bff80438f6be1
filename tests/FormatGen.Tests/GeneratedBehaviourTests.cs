using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Xunit;

namespace FormatGen.Tests;

/// <summary>Behaviour of code generated from the small test grammars, compiled and run.</summary>
public class GeneratedBehaviourTests
{
    private static Assembly CompileTlv() => Compile("tlv.ksy");

    private static Assembly Compile(string grammar)
    {
        var (run, output) = GeneratorHarness.Generate("/g/" + grammar, File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", grammar)));
        Assert.Empty(run.Diagnostics);
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        ms.Position = 0;
        return new AssemblyLoadContext(grammar, isCollectible: true).LoadFromStream(ms);
    }

    // "TLV1", count 2, flags 0; item number(5) padded; item text "hey" padded; crc 0x01020304 big-endian.
    internal static readonly byte[] Sample =
    {
        0x54, 0x4c, 0x56, 0x31, 2, 0, 0, 0,
        1, 4, 5, 0, 0, 0, 0, 0,
        2, 3, (byte)'h', (byte)'e', (byte)'y', 0, 0, 0,
        1, 2, 3, 4,
    };

    [Fact]
    public void Fixed_byte_order_fields_padding_and_switches_round_trip()
    {
        var asm = CompileTlv();
        var tlv = asm.GetType("Snapshots.Tlv.Tlv")!;
        var model = LanguageTests.PlainRead(tlv).Invoke(null, new object[] { (ReadOnlyMemory<byte>)Sample })!;
        Assert.Equal(0x01020304u, tlv.GetProperty("Crc")!.GetValue(model));
        var items = (System.Collections.IList)tlv.GetProperty("Items")!.GetValue(model)!;
        Assert.Equal(2, items.Count);
        var first = items[0]!.GetType().GetProperty("Value")!.GetValue(items[0])!;
        Assert.Equal("Number", first.GetType().Name);
        Assert.Equal(5u, first.GetType().GetProperty("Value")!.GetValue(first));
        var bytes = LanguageTests.Write(model);
        Assert.Equal(Sample, bytes);
        Assert.Empty(ValidateVia(tlv, Sample));
    }

    [Fact]
    public void Index_arguments_reach_each_element()
    {
        var asm = CompileTlv();
        var tlv = asm.GetType("Snapshots.Tlv.Tlv")!;
        // 120 one-octet-text items: positions 100.. break item-position.
        var data = new System.Collections.Generic.List<byte> { 0x54, 0x4c, 0x56, 0x31, 120, 0, 0, 0 };
        for (int i = 0; i < 120; i++) data.AddRange(new byte[] { 2, 2, 65, 66 });
        data.AddRange(new byte[] { 0, 0, 0, 0 });
        var found = ValidateVia(tlv, data.ToArray());
        // One mistake repeated over a list is one violation that counts the rest.
        var v = Assert.Single(found, v => v.Contains("item-position"));
        Assert.Contains("items[100]", v);
        Assert.Contains("19 more element(s) alike", v);
    }

    [Fact]
    public void Rules_word_their_messages_from_the_grammar_templates_or_plain_defaults()
    {
        var tlv = CompileTlv().GetType("Snapshots.Tlv.Tlv")!;
        var data = (byte[])Sample.Clone();
        data[6] = 0x30;            // flags: a reserved bit
        data[9] = 3;               // the number's length 3: its item is then 3 octets of number and 3 of padding
        data[10] = 0; data[8] = 1; // value 0 (below min 1)
        var found = ValidateVia(tlv, data);
        Assert.Contains(found, v => v.Contains("tlv-flags") && v.EndsWith("(expected bits 4-15 clear, found flags 0x30)"));
        Assert.Contains(found, v => v.Contains("number-length") && v.EndsWith("(expected length 4, found 3)"));
        var twoHundred = new System.Collections.Generic.List<byte> { 0x54, 0x4c, 0x56, 0x31, 101, 0, 0, 0 };
        for (int i = 0; i < 101; i++) twoHundred.AddRange(new byte[] { 2, 2, 65, 66 });
        twoHundred.AddRange(new byte[] { 0, 0, 0, 0 });
        Assert.Contains(ValidateVia(tlv, twoHundred.ToArray()), v => v.Contains("item-position") && v.EndsWith("(expected at most 100 items, found item 101)"));
    }

    internal static byte[] FrameBytes(bool bigEndian, byte version)
    {
        var b = new System.Collections.Generic.List<byte> { (byte)(bigEndian ? 1 : 0), version, 2 };
        void U2(ushort v) => b.AddRange(bigEndian ? new[] { (byte)(v >> 8), (byte)v } : new[] { (byte)v, (byte)(v >> 8) });
        b.AddRange(new byte[] { 0, 1, 0, 2 }); // payload: pair a=1, b=2 (the header is big-endian)
        b.AddRange(bigEndian ? new byte[] { 0xde, 0xad, 0xbe, 0xef } : new byte[] { 0xef, 0xbe, 0xad, 0xde });
        if (version >= 2) U2(0x1234);
        U2(0x1005);
        U2(0x2006);
        U2(0xf007);
        return b.ToArray();
    }

    [Theory]
    [InlineData(true, (byte)2)]
    [InlineData(false, (byte)2)]
    [InlineData(false, (byte)1)]
    public void Calculated_byte_order_conditional_fields_and_repeat_until_round_trip(bool bigEndian, byte version)
    {
        var asm = Compile("frame.ksy");
        var frame = asm.GetType("Snapshots.Frame.Frame")!;
        var data = FrameBytes(bigEndian, version);
        var model = LanguageTests.PlainRead(frame).Invoke(null, new object[] { (ReadOnlyMemory<byte>)data })!;
        var body = frame.GetProperty("Body")!.GetValue(model)!;
        Assert.Equal(0xdeadbeefu, body.GetType().GetProperty("Word")!.GetValue(body));
        Assert.Equal(version >= 2 ? (ushort?)0x1234 : null, (ushort?)body.GetType().GetProperty("Extra")!.GetValue(body));
        var cells = (System.Collections.IList)body.GetType().GetProperty("Cells")!.GetValue(body)!;
        Assert.Equal(3, cells.Count);
        Assert.Equal(7UL, Convert.ToUInt64(cells[2]!.GetType().GetProperty("Payload")!.GetValue(cells[2])));
        var header = frame.GetProperty("Header")!.GetValue(model)!;
        Assert.Equal("Pair", header.GetType().GetProperty("Payload")!.GetValue(header)!.GetType().Name);
        Assert.Equal((byte)2, header.GetType().GetProperty("Kind")!.GetValue(header));
        Assert.Equal(data, LanguageTests.Write(model));
    }

    [Fact]
    public void The_generic_stream_reader_drives_a_generated_grammar_over_a_trickling_pipe()
    {
        var asm = Compile("frame.ksy");
        var grammarType = asm.GetType("Snapshots.Frame.FrameStreamGrammar")!;
        var cellType = asm.GetType("Snapshots.Frame.Cell")!;
        var readerType = typeof(FormatGen.Runtime.FgStreamReader<>).MakeGenericType(cellType);
        var data = FrameBytes(true, 2);
        using var reader = (IDisposable)Activator.CreateInstance(readerType, Streams.Trickle(data, 1), Activator.CreateInstance(grammarType), null)!;
        var moveNext = readerType.GetMethod("MoveNext", new[] { typeof(bool) })!;
        var payloads = new System.Collections.Generic.List<ulong>();
        while ((bool)moveNext.Invoke(reader, new object[] { true })!)
        {
            var cell = readerType.GetProperty("Current")!.GetValue(reader)!;
            payloads.Add(Convert.ToUInt64(cellType.GetProperty("Payload")!.GetValue(cell)));
        }
        Assert.Equal(new ulong[] { 5, 6, 7 }, payloads);
    }

    /// <summary>Validate takes a ReadOnlySpan&lt;byte&gt;, which reflection cannot pass: call it through a delegate.</summary>
    private static string[] ValidateVia(Type tlv, byte[] data)
    {
        var validate = (ValidateFn)Delegate.CreateDelegate(typeof(ValidateFn), tlv.GetMethod("Validate")!);
        return validate(data).Select(v => v.ToString()).ToArray();
    }

    private delegate System.Collections.Generic.IReadOnlyList<FormatGen.Runtime.FgViolation> ValidateFn(ReadOnlySpan<byte> data);
}
