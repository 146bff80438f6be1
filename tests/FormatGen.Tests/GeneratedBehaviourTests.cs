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
    private static Assembly CompileTlv()
    {
        var (run, output) = GeneratorHarness.Generate("/g/tlv.ksy", File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", "tlv.ksy")));
        Assert.Empty(run.Diagnostics);
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        ms.Position = 0;
        return new AssemblyLoadContext("tlv", isCollectible: true).LoadFromStream(ms);
    }

    // "TLV1", count 2, flags 0; item number(5) padded; item text "hey" padded; crc 0x01020304 big-endian.
    private static readonly byte[] Sample =
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
        var model = tlv.GetMethod("Read")!.Invoke(null, new object[] { (ReadOnlyMemory<byte>)Sample })!;
        Assert.Equal(0x01020304u, tlv.GetProperty("Crc")!.GetValue(model));
        var items = (System.Collections.IList)tlv.GetProperty("Items")!.GetValue(model)!;
        Assert.Equal(2, items.Count);
        var first = items[0]!.GetType().GetProperty("Value")!.GetValue(items[0])!;
        Assert.Equal("Number", first.GetType().Name);
        Assert.Equal(5u, first.GetType().GetProperty("Value")!.GetValue(first));
        var bytes = (byte[])tlv.GetMethod("ToArray")!.Invoke(model, Array.Empty<object>())!;
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
        Assert.Equal(20, found.Count(v => v.Contains("item-position")));
        Assert.Contains(found, v => v.Contains("items[100]"));
    }

    /// <summary>Validate takes a ReadOnlySpan&lt;byte&gt;, which reflection cannot pass: call it through a delegate.</summary>
    private static string[] ValidateVia(Type tlv, byte[] data)
    {
        var validate = (ValidateFn)Delegate.CreateDelegate(typeof(ValidateFn), tlv.GetMethod("Validate")!);
        return validate(data).Select(v => v.ToString()).ToArray();
    }

    private delegate System.Collections.Generic.IReadOnlyList<FormatGen.Runtime.FgViolation> ValidateFn(ReadOnlySpan<byte> data);
}
