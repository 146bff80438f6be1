using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using FormatGen.Runtime;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// The Kaitai language, feature by feature: each small grammar under
/// Grammars/ is generated, compiled and run, reading, writing and validating.
/// </summary>
public class LanguageTests
{
    internal static Assembly Compile(string grammar)
    {
        var (run, output) = GeneratorHarness.Generate(GeneratorHarness.WithImports(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", grammar)));
        Assert.Empty(run.Diagnostics);
        var ms = new MemoryStream();
        var emit = output.Emit(ms);
        if (!emit.Success)
        {
            // Keep what did not compile, to read.
            var dir = Path.Combine(Path.GetTempPath(), "formatgen-failed", Path.GetFileNameWithoutExtension(grammar));
            Directory.CreateDirectory(dir);
            foreach (var tree in output.SyntaxTrees) File.WriteAllText(Path.Combine(dir, Path.GetFileName(tree.FilePath)), tree.ToString());
            Assert.Fail("generated code does not compile (sources in " + dir + "):\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)));
        }
        ms.Position = 0;
        return new AssemblyLoadContext(grammar, isCollectible: true).LoadFromStream(ms);
    }

    internal static object Read(Type t, byte[] data) => PlainRead(t).Invoke(null, new object[] { (ReadOnlyMemory<byte>)data })!;

    /// <summary>A generated type's Read(data) (not the overload that says how many octets it took).</summary>
    internal static System.Reflection.MethodInfo PlainRead(Type t)
        => t.GetMethods().Single(m => m.Name == "Read" && m.IsStatic && m.GetParameters() is var ps && ps.Length == 1 && ps[0].ParameterType == typeof(ReadOnlyMemory<byte>));

    /// <summary>The model's ToArray, its optional parameters at their defaults but verify.</summary>
    internal static byte[] Write(object model, bool verify = true)
    {
        var toArray = model.GetType().GetMethod("ToArray")!;
        var args = toArray.GetParameters().Select(p => p.Name == "verify" ? verify : Type.Missing).ToArray();
        return (byte[])toArray.Invoke(model, args)!;
    }

    internal static object? Get(object model, string property) => model.GetType().GetProperty(property)!.GetValue(model);

    internal static string[] Validate(Type t, byte[] data)
    {
        var validate = (ValidateFn)Delegate.CreateDelegate(typeof(ValidateFn), t.GetMethod("Validate")!);
        return validate(data).Select(v => v.ToString()).ToArray();
    }

    internal delegate System.Collections.Generic.IReadOnlyList<FgViolation> ValidateFn(ReadOnlySpan<byte> data);

    private static byte[] Cat(params object[] parts)
    {
        var ms = new MemoryStream();
        foreach (var p in parts)
            switch (p)
            {
                case string s: ms.Write(Encoding.UTF8.GetBytes(s)); break;
                case byte b: ms.WriteByte(b); break;
                case byte[] a: ms.Write(a); break;
            }
        return ms.ToArray();
    }

    [Fact]
    public void Strings_read_with_their_encodings_terminators_and_padding_and_write_back_identical()
    {
        var t = Compile("strings.ksy").GetType("Snapshots.Strings.Strings")!;
        var data = Cat("STR1", "hello", (byte)0, "ab", new byte[6], "xyz   ", "OK", (byte)6, Encoding.Unicode.GetBytes("héé"),
            new byte[] { 0x63, 0x61, 0x66, 0xe9 }, "123", "a,", "rest", (byte)0x3b, "tail!");
        var m = Read(t, data);
        Assert.Equal("hello", Get(m, "Name"));
        Assert.Equal("ab", Get(m, "Label"));
        Assert.Equal("xyz", Get(m, "Padded"));
        Assert.Equal("OK", Get(m, "Kind"));
        Assert.Equal("héé", Get(m, "Wide"));
        Assert.Equal("café", Get(m, "Latin"));
        Assert.Equal("a,", Encoding.ASCII.GetString(((ReadOnlyMemory<byte>)Get(m, "CsvCell")!).Span));
        Assert.Equal("rest", Encoding.ASCII.GetString(((ReadOnlyMemory<byte>)Get(m, "Peek")!).Span));
        Assert.Equal((byte)0x3b, Get(m, "Semicolon"));
        Assert.Equal("tail!", Get(m, "Tail"));
        // Instances: concatenation, length, comparison, substring, to_i, first, size.
        Assert.Equal("hello!", Get(m, "Greeting"));
        Assert.Equal(5L, Get(m, "NameLength"));
        Assert.Equal(true, Get(m, "IsHello"));
        Assert.Equal("el", Get(m, "Middle"));
        Assert.Equal(123L, Get(m, "Number"));
        Assert.Equal((long)'a', Get(m, "FirstOctet"));
        Assert.Equal(2L, Get(m, "CellSize"));
        Assert.Empty(Validate(t, data));
        Assert.Equal(data, Write(m));
    }

    [Fact]
    public void Octets_after_a_terminator_inside_a_size_write_back_as_they_were_until_the_value_changes()
    {
        var t = Compile("strings.ksy").GetType("Snapshots.Strings.Strings")!;
        // 'label' holds "ab", then its NUL, then octets no one cleared.
        var data = Cat("STR1", "hello", (byte)0, "ab", (byte)0, "XYZ", (byte)0, (byte)7, "xyz   ", "OK", (byte)0, new byte[4], "123", "a,", "rest", (byte)0x3b, "t");
        var m = Read(t, data);
        Assert.Equal("ab", Get(m, "Label"));
        Assert.Equal(data, Write(m));
        // A new value is written clean: its terminator, then zeros.
        var changed = m.GetType().GetMethod("<Clone>$")!.Invoke(m, null)!;
        m.GetType().GetProperty("Label")!.SetValue(changed, "abc");
        var back = Write(changed);
        Assert.Equal(Cat("abc", (byte)0, new byte[4]), back.AsSpan(10, 8).ToArray());
    }

    [Fact]
    public void A_string_rule_a_missing_terminator_and_a_string_too_long_for_its_size_are_reported()
    {
        var t = Compile("strings.ksy").GetType("Snapshots.Strings.Strings")!;
        var data = Cat("STR1", "hello", (byte)0, "ab", new byte[6], "xyz   ", "NO", (byte)0, "", new byte[4], "123", "a,", "rest;", "t");
        Assert.Contains(Validate(t, data), v => v.Contains("strings.kind") && v.Contains("(expected \"OK\", found \"NO\")"));
        // No NUL before the end: the strz is a structural error naming the field.
        var cut = Cat("STR1", "hello");
        Assert.Contains(Validate(t, cut), v => v.Contains("terminator") && v.Contains("field name"));
        var m = Read(t, Cat("STR1", "hello", (byte)0, "ab", new byte[6], "xyz   ", "OK", (byte)0, new byte[4], "123", "a,", "rest;", "t"));
        var tooLong = m.GetType().GetMethod("<Clone>$")!.Invoke(m, null)!;
        m.GetType().GetProperty("Padded")!.SetValue(tooLong, "far too long");
        var e = Assert.Throws<TargetInvocationException>(() => Write(tooLong));
        Assert.Contains("padded", e.InnerException!.Message);
    }
}

public class NumberTests
{
    private static readonly byte[] Sample = BuildSample();

    private static byte[] BuildSample()
    {
        var b = new System.Collections.Generic.List<byte> { 0xDA, 0xAB, 0xCD, 0x42, 0x9D, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAA, 0x3F, 0xC0, 0x00, 0x00 };
        b.AddRange(BitConverter.GetBytes(2000.25)); // little-endian
        b.Add(0xC9);
        return b.ToArray();
    }

    [Fact]
    public void Bit_fields_share_octets_in_both_bit_orders_and_floats_read_and_write_back()
    {
        var t = LanguageTests.Compile("numbers.ksy").GetType("Snapshots.Numbers.Numbers")!;
        var m = LanguageTests.Read(t, Sample);
        Assert.Equal(true, LanguageTests.Get(m, "Flag"));
        Assert.Equal((byte)5, LanguageTests.Get(m, "Version"));
        Assert.Equal((byte)0xA, LanguageTests.Get(m, "Kind"));
        Assert.Equal((ushort)0xABC, LanguageTests.Get(m, "Big"));
        Assert.Equal((byte)0xD, LanguageTests.Get(m, "Small"));
        Assert.Equal((byte)0x42, LanguageTests.Get(m, "Aligned"));
        Assert.Equal((byte)5, LanguageTests.Get(m, "Low"));
        Assert.Equal((byte)19, LanguageTests.Get(m, "High"));
        Assert.Equal(0x2468AU, LanguageTests.Get(m, "Wide"));
        Assert.Equal((ushort)0x6789, LanguageTests.Get(m, "Wider"));
        Assert.Equal((byte)0x55, LanguageTests.Get(m, "Odd"));
        Assert.Equal(1.5f, LanguageTests.Get(m, "Single"));
        Assert.Equal(2000.25, LanguageTests.Get(m, "DoubleLe"));
        Assert.Equal(new byte[] { 3, 0, 2, 1 }, ((System.Collections.Generic.IEnumerable<byte>)LanguageTests.Get(m, "Levels")!).ToArray());
        Assert.Equal(5L + 0xA + 0xD, LanguageTests.Get(m, "Total"));
        Assert.Equal(0.75, LanguageTests.Get(m, "Ratio"));
        Assert.Equal(true, LanguageTests.Get(m, "IsLarge"));
        Assert.Empty(LanguageTests.Validate(t, Sample));
        Assert.Equal(Sample, LanguageTests.Write(m));
    }

    [Fact]
    public void Bit_fields_wider_than_32_bits_read_and_write_in_both_bit_orders()
    {
        var t = LanguageTests.Compile("wide_bits.ksy").GetType("Snapshots.WideBits.WideBits")!;
        byte[] data = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xBF, 0xDB, 0x97, 0x53, 0x0E, 0xCA, 0x86, 0x42, 0x11, 0x89, 0x67, 0x45, 0x23, 0x23, 0x44, 0x66, 0x88, 0xAA, 0xCC, 0xEE, 0x10, 0xAB };
        var m = LanguageTests.Read(t, data);
        Assert.Equal(0x123456789UL, LanguageTests.Get(m, "Forty"));
        Assert.Equal((byte)5, LanguageTests.Get(m, "Odd"));
        Assert.Equal(0xFEDCBA9876543210UL, LanguageTests.Get(m, "Full"));
        Assert.Equal((byte)17, LanguageTests.Get(m, "Pad"));
        Assert.Equal(0x123456789UL, LanguageTests.Get(m, "LowFirst"));
        Assert.Equal(0x8877665544332211UL, LanguageTests.Get(m, "AllLe"));
        Assert.Equal((byte)0x55, LanguageTests.Get(m, "Rest"));
        Assert.Equal(data, LanguageTests.Write(m));
    }

    [Fact]
    public void Any_values_of_the_bit_fields_write_and_read_back()
    {
        var t = LanguageTests.Compile("numbers.ksy").GetType("Snapshots.Numbers.Numbers")!;
        FsCheck.Fluent.Prop.ForAll(FsCheck.Fluent.ArbMap.Default.ArbFor<byte[]>(), noise =>
        {
            // Any octets are a valid numbers record when there are enough of them.
            var data = Sample.ToArray();
            for (int i = 0; i < noise.Length && i < data.Length; i++) data[i] ^= noise[i];
            var m = LanguageTests.Read(t, data);
            var back = LanguageTests.Write(m);
            // Octets that hold no field bits (the pad bit after 'odd') are written as zero.
            data[10] &= 0xFE;
            return back.AsSpan().SequenceEqual(data);
        }).QuickCheckThrowOnFailure();
    }
}

public class ScopeTests
{
    [Fact]
    public void Same_names_in_different_scopes_enum_paths_and_negative_enum_values_read_and_write_back()
    {
        var asm = LanguageTests.Compile("scopes.ksy");
        var t = asm.GetType("Snapshots.Scopes.Scopes")!;
        // marker -2, outer.colour white, inner: colour red, code -3, shade red, box: item (green, 7), plain top 0.
        var data = new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 2, 1, 0xFD, 0xFF, 1, 2, 7, 0, 0 };
        var m = LanguageTests.Read(t, data);
        Assert.Equal("End", LanguageTests.Get(m, "Marker")!.ToString());
        Assert.Equal(-2L, Convert.ToInt64(LanguageTests.Get(m, "Marker")));
        Assert.Equal("White", LanguageTests.Get(LanguageTests.Get(m, "Outer")!, "Colour")!.ToString());
        var inner = LanguageTests.Get(m, "Inner")!;
        Assert.Equal("Red", LanguageTests.Get(inner, "Colour")!.ToString());
        Assert.Equal((short)-3, LanguageTests.Get(inner, "Code"));
        Assert.NotEqual(LanguageTests.Get(m, "Outer")!.GetType(), inner.GetType());
        Assert.Equal(true, LanguageTests.Get(m, "IsEnd"));
        Assert.Equal(true, LanguageTests.Get(m, "IsRed"));
        Assert.Equal(-2L, LanguageTests.Get(m, "MarkerValue"));
        var plain = LanguageTests.Get(LanguageTests.Get(m, "Box")!, "Plain")!;
        Assert.Equal("None", LanguageTests.Get(plain, "Top")!.ToString());
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}

public class SwitchTests
{
    private static readonly byte[] Sample = Convert.FromHexString(
        "05" + "010203FC07" + "02030102EE" + "030078563412" + "0403616263" + "0902AABB" + "6364" + "686900" + "0102" + "050611616200" + "07080000090A3344");

    [Fact]
    public void Primitive_string_default_and_shared_cases_read_and_write_back()
    {
        var asm = LanguageTests.Compile("switches.ksy");
        var t = asm.GetType("Snapshots.Switches.Switches")!;
        var m = LanguageTests.Read(t, Sample);
        var items = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Items")!).Cast<object>().ToArray();
        Assert.Equal(5, items.Length);
        // One case type for two keys: the model keeps the key.
        Assert.Equal((byte)1, LanguageTests.Get(items[0], "Kind"));
        Assert.Equal((byte)2, LanguageTests.Get(items[1], "Kind"));
        var p0 = LanguageTests.Get(items[0], "Body")!;
        Assert.Equal("Point", p0.GetType().Name);
        Assert.Equal((sbyte)-4, LanguageTests.Get(p0, "Y"));
        Assert.Equal((byte)7, LanguageTests.Get(LanguageTests.Get(items[0], "Tail")!, "Value"));
        Assert.Equal(new byte[] { 0xEE }, ((ReadOnlyMemory<byte>)LanguageTests.Get(LanguageTests.Get(items[1], "Body")!, "Slack")!).ToArray());
        // No size and no case: nothing read, the unknown case with no octets.
        var tail1 = LanguageTests.Get(items[1], "Tail")!;
        Assert.EndsWith("Unknown", tail1.GetType().Name);
        Assert.Equal(0, ((ReadOnlyMemory<byte>)LanguageTests.Get(tail1, "Bytes")!).Length);
        Assert.Equal(0x12345678u, LanguageTests.Get(LanguageTests.Get(items[2], "Number")!, "Value"));
        Assert.Equal("abc", LanguageTests.Get(LanguageTests.Get(items[3], "Body")!, "Value"));
        var unknown = LanguageTests.Get(items[4], "Body")!;
        Assert.Equal((byte)9, LanguageTests.Get(unknown, "Key"));
        Assert.Equal("hi", LanguageTests.Get(LanguageTests.Get(m, "ByName")!, "Value"));
        var bodies = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Bodies")!).Cast<object>().ToArray();
        Assert.Equal("Point", bodies[0].GetType().Name);
        Assert.Equal("ab", LanguageTests.Get(bodies[1], "Value"));
        Assert.Empty(LanguageTests.Validate(t, Sample));
        Assert.Equal(Sample, LanguageTests.Write(m));
    }

    [Fact]
    public void A_value_the_key_does_not_select_is_refused_by_the_writer()
    {
        var asm = LanguageTests.Compile("switches.ksy");
        var t = asm.GetType("Snapshots.Switches.Switches")!;
        var m = LanguageTests.Read(t, Sample);
        var items = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Items")!).Cast<object>().ToArray();
        // Item 4 holds a str; make its key say point.
        var item = items[3];
        item.GetType().GetProperty("Kind")!.SetValue(item, (byte)1);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Write(m));
        Assert.Contains("body: holds a str, which key 1 does not select", e.InnerException!.Message);
    }
}

public class ListTests
{
    [Fact]
    public void Repeated_strings_and_byte_arrays_read_and_write_back()
    {
        var t = LanguageTests.Compile("lists.ksy").GetType("Snapshots.Lists.Lists")!;
        var data = Convert.FromHexString("02" + "616200" + "6300" + "58595A57" + "010203" + "FF0000" + "686920" + "796F20" + "20" + "656E6400" + "7800");
        var m = LanguageTests.Read(t, data);
        Assert.Equal(new[] { "ab", "c" }, ((System.Collections.Generic.IEnumerable<string>)LanguageTests.Get(m, "Names")!).ToArray());
        Assert.Equal(new[] { "XY", "ZW" }, ((System.Collections.Generic.IEnumerable<string>)LanguageTests.Get(m, "Codes")!).ToArray());
        var blocks = ((System.Collections.Generic.IEnumerable<ReadOnlyMemory<byte>>)LanguageTests.Get(m, "Blocks")!).Select(b => Convert.ToHexString(b.Span)).ToArray();
        Assert.Equal(new[] { "010203", "FF0000" }, blocks);
        var words = ((System.Collections.Generic.IEnumerable<ReadOnlyMemory<byte>>)LanguageTests.Get(m, "Words")!).Select(b => Encoding.ASCII.GetString(b.Span)).ToArray();
        Assert.Equal(new[] { "hi", "yo", "" }, words);
        Assert.Equal(new[] { "end", "x" }, ((System.Collections.Generic.IEnumerable<string>)LanguageTests.Get(m, "Tail")!).ToArray());
        Assert.Equal("ab", LanguageTests.Get(m, "FirstName"));
        Assert.Equal(0xFFL, LanguageTests.Get(m, "LastBlockFirst"));
        Assert.Equal(2L, LanguageTests.Get(m, "CodeCount"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
        // Models compare by content: a copy read from other octets is equal.
        Assert.Equal(m, LanguageTests.Read(t, data.ToArray()));
    }
}

public class ProcessTests
{
    private static byte[] Sample() => Convert.FromHexString(File.ReadAllLines(Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Grammars", "process.samples"))
        .First(l => !l.StartsWith('#')).Replace(" ", ""));

    private static string Ascii(object? m) => Encoding.ASCII.GetString(((ReadOnlyMemory<byte>)m!).Span);

    [Fact]
    public void Xor_rol_ror_and_zlib_read_and_write_back_the_same_octets()
    {
        var t = LanguageTests.Compile("process.ksy").GetType("Snapshots.Process.Process")!;
        var data = Sample();
        var m = LanguageTests.Read(t, data);
        Assert.Equal("MASK", Ascii(LanguageTests.Get(m, "Masked")));
        Assert.Equal("keyed", Ascii(LanguageTests.Get(m, "Keyed")));
        Assert.Equal("RO", Ascii(LanguageTests.Get(m, "Rotated")));
        Assert.Equal("UN", Ascii(LanguageTests.Get(m, "Unrotated")));
        Assert.Equal("hello hello hello zlib", Ascii(LanguageTests.Get(m, "Packed")));
        var inner = LanguageTests.Get(m, "Inner")!;
        Assert.Equal((ushort)0x1234, LanguageTests.Get(inner, "X"));
        Assert.Equal(new byte[] { 0x99 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(inner, "Slack")!).ToArray());
        Assert.Equal((ushort)8, LanguageTests.Get(LanguageTests.Get(m, "Zinner")!, "Y"));
        Assert.Equal((long)'M', LanguageTests.Get(m, "MaskedFirst"));
        Assert.Empty(LanguageTests.Validate(t, data));
        // The zlib octets read are written back as they were (not compressed anew).
        Assert.Equal(data, LanguageTests.Write(m));
    }

    [Fact]
    public void A_changed_zlib_value_is_compressed_anew_and_reads_back()
    {
        var t = LanguageTests.Compile("process.ksy").GetType("Snapshots.Process.Process")!;
        var m = LanguageTests.Read(t, Sample());
        var changed = m.GetType().GetMethod("<Clone>$")!.Invoke(m, null)!;
        m.GetType().GetProperty("Packed")!.SetValue(changed, (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes("another text, longer than the first one"));
        var back = LanguageTests.Read(t, LanguageTests.Write(changed));
        Assert.Equal("another text, longer than the first one", Ascii(LanguageTests.Get(back, "Packed")));
        Assert.Equal(LanguageTests.Get(m, "Zinner"), LanguageTests.Get(back, "Zinner"));
    }

    [Fact]
    public void Octets_that_are_not_zlib_are_one_error_naming_the_field()
    {
        var t = LanguageTests.Compile("process.ksy").GetType("Snapshots.Process.Process")!;
        var data = Sample();
        data[16] ^= 0xFF; // the zlib header of 'packed'
        var v = Assert.Single(LanguageTests.Validate(t, data));
        Assert.Contains("zlib", v);
        Assert.Contains("field packed, offset 16", v);
    }
}

public class ImportTests
{
    [Fact]
    public void Types_and_enums_of_imported_grammars_read_and_write_back()
    {
        var asm = LanguageTests.Compile("imports.ksy");
        var t = asm.GetType("Snapshots.Imports.Imports")!;
        var data = Convert.FromHexString("01030004000201" + "09" + "FFFF140001EE" + "05000600FF");
        var m = LanguageTests.Read(t, data);
        var origin = LanguageTests.Get(m, "Origin")!;
        // The imported grammar's own type, in its own namespace, not a copy.
        Assert.Equal("Snapshots.Common.Vec2", origin.GetType().FullName);
        Assert.Equal("Square", LanguageTests.Get(origin, "Kind")!.ToString());
        Assert.Equal(25L, LanguageTests.Get(origin, "LengthSq"));
        Assert.Equal("Snapshots.Common.Range", LanguageTests.Get(m, "Span")!.GetType().FullName);
        Assert.Equal(new byte[] { 0xEE }, ((ReadOnlyMemory<byte>)LanguageTests.Get(LanguageTests.Get(m, "Corner")!, "Slack")!).ToArray());
        Assert.Equal("Snapshots.Common.Vec2", LanguageTests.Get(m, "Body")!.GetType().FullName);
        Assert.Equal(true, LanguageTests.Get(m, "IsRound"));
        Assert.Equal(false, LanguageTests.Get(m, "OriginFar"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}

public class ParseInstanceTests
{
    private static readonly byte[] Sample = Convert.FromHexString("1000021600" + "5A5A5A" + "44332211" + "0000BBAA" + "010500020600" + "68657900" + "CAFE");

    [Fact]
    public void Parse_instances_read_when_asked_and_what_they_read_writes_back()
    {
        var t = LanguageTests.Compile("instances.ksy").GetType("Snapshots.Instances.Instances")!;
        var m = LanguageTests.Read(t, Sample);
        var entries = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Entries")!).Cast<object>().ToArray();
        Assert.Equal(2, entries.Length);
        Assert.Equal((ushort)6, LanguageTests.Get(entries[1], "Value"));
        Assert.Equal("hey", LanguageTests.Get(m, "Name"));
        Assert.Equal("ZZZ", Encoding.ASCII.GetString(((ReadOnlyMemory<byte>)LanguageTests.Get(m, "Echo")!).Span));
        Assert.Equal(new byte[] { 0x10, 0 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(m, "MagicAgain")!).ToArray());
        Assert.Equal((ushort)0xCAFE, LanguageTests.Get(m, "TailWord"));
        Assert.Equal(1L, LanguageTests.Get(m, "FirstEntryKind"));
        Assert.Equal((byte)0, LanguageTests.Get(m, "Maybe"));
        var body = LanguageTests.Get(m, "Body")!;
        Assert.Equal((ushort)0xAABB, LanguageTests.Get(body, "Hidden"));
        Assert.Equal((byte)0x10, LanguageTests.Get(body, "FromRoot"));
        // Read once, then kept.
        Assert.Same(LanguageTests.Get(m, "Entries"), LanguageTests.Get(m, "Entries"));
        // ToString does not read instances.
        Assert.DoesNotContain("hey", m.ToString());
        Assert.Empty(LanguageTests.Validate(t, Sample));
        // The octets instances read lie outside the fields: the model keeps them, and writing gives them back.
        Assert.Equal(Sample, LanguageTests.Write(m));
    }

    [Fact]
    public void An_instance_whose_octets_are_missing_fails_when_asked_naming_it()
    {
        var t = LanguageTests.Compile("instances.ksy").GetType("Snapshots.Instances.Instances")!;
        var data = Sample.ToArray();
        data[0] = 0xF0; // the entry table lies past the end
        var m = LanguageTests.Read(t, data);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Get(m, "Entries"));
        var fg = Assert.IsType<FgException>(e.InnerException);
        Assert.Contains("entries", fg.Message);
    }
}

public class InstanceShapeTests
{
    private static readonly byte[] Sample = Convert.FromHexString("01171A0103070400000000000000" + "6162002078797A00" + "70" + "010000" + "09AA");

    [Fact]
    public void A_tree_a_switch_a_repeat_reading_index_and_a_u8_size_read_as_instances_and_write_back()
    {
        var t = LanguageTests.Compile("instance_shapes.ksy").GetType("Snapshots.InstanceShapes.InstanceShapes")!;
        var m = LanguageTests.Read(t, Sample);
        var tree = LanguageTests.Get(m, "Tree")!;
        Assert.Equal(true, LanguageTests.Get(tree, "IsBranch"));
        Assert.Equal(false, LanguageTests.Get(LanguageTests.Get(tree, "Left")!, "IsBranch"));
        Assert.Null(LanguageTests.Get(LanguageTests.Get(tree, "Right")!, "Left"));
        var body = LanguageTests.Get(m, "Body")!;
        Assert.Equal("One", body.GetType().Name);
        Assert.Equal((byte)9, LanguageTests.Get(body, "A"));
        var blocks = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Blocks")!).Cast<object>().ToArray();
        Assert.Equal(new[] { 2L, 4L }, blocks.Select(b => (long)LanguageTests.Get(b, "Span")!));
        // Types under parse instances read _parent (the instance's type) and _root, passed through a type in between.
        var piece = LanguageTests.Get(blocks[1], "Piece")!;
        Assert.Equal(new byte[] { 1 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(piece, "Head")!).ToArray());
        Assert.Equal(4L, LanguageTests.Get(piece, "ParentSpan"));
        var framed = LanguageTests.Get(m, "Framed")!;
        Assert.Equal(new byte[] { 0x17 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(framed, "Data")!).ToArray());
        Assert.Equal(1L, LanguageTests.Get(framed, "KindOfRoot"));
        // A switch in a parse instance passing each case its argument.
        Assert.Equal(new byte[] { 1 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(LanguageTests.Get(m, "Tagged")!, "Data")!).ToArray());
        Assert.Equal(new byte[] { 1, 0x17, 0x1A, 1 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(m, "Data")!).ToArray());
        Assert.Equal(new[] { "ab", "xyz" }, ((System.Collections.IEnumerable)LanguageTests.Get(m, "Names")!).Cast<string>());
        Assert.Empty(LanguageTests.Validate(t, Sample));
        Assert.Equal(Sample, LanguageTests.Write(m));
    }

    /// <summary>A tree leaning left, <paramref name="depth"/> levels deep, at octet 22.</summary>
    private static byte[] DeepTree(int depth)
        => Convert.FromHexString("0116000000000000000000000000" + "61002020" + "62002020")
            .Concat(Enumerable.Repeat((byte)1, depth)).Concat(Enumerable.Repeat((byte)0, depth + 1)).ToArray();

    [Fact]
    public void A_type_that_contains_itself_nests_as_deep_as_the_reader_allows_and_no_deeper()
    {
        var t = LanguageTests.Compile("instance_shapes.ksy").GetType("Snapshots.InstanceShapes.InstanceShapes")!;
        // At the limit: read, printed, compared and written back.
        var ok = DeepTree(FgReader.MaxNesting - 1);
        var m = LanguageTests.Read(t, ok);
        var tree = LanguageTests.Get(m, "Tree")!;
        Assert.StartsWith("Node { has_children=1, left=", tree.ToString());
        Assert.Equal(tree, LanguageTests.Get(LanguageTests.Read(t, ok), "Tree"));
        Assert.Equal(ok, LanguageTests.Write(m));
        // One level more: an error naming the type, not a stack overflow; a million levels alike.
        foreach (var depth in new[] { FgReader.MaxNesting, 1_000_000 })
        {
            var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Get(LanguageTests.Read(t, DeepTree(depth)), "Tree"));
            var fg = Assert.IsType<FgException>(e.InnerException);
            Assert.Equal("too-deep", fg.Rule);
            Assert.Contains("'node' nests deeper than 512 levels", fg.Message);
        }
    }

    [Fact]
    public void A_parse_instance_that_breaks_a_rule_fails_when_asked_as_Kaitai_s_does()
    {
        var t = LanguageTests.Compile("instance_shapes.ksy").GetType("Snapshots.InstanceShapes.InstanceShapes")!;
        var data = Sample.ToArray();
        data[0] = 2; // the body is a 'two': 09 is not its magic
        var m = LanguageTests.Read(t, data);
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Get(m, "Body"));
        var fg = Assert.IsType<FgException>(e.InnerException);
        Assert.Equal("two.magic", fg.Rule);
        Assert.Equal("two.magic: field body.magic, offset 26 (0x1a): " + fg.Detail, fg.Message);
    }

    [Fact]
    public void A_body_whose_key_names_no_case_keeps_its_key_and_octets()
    {
        var t = LanguageTests.Compile("instance_shapes.ksy").GetType("Snapshots.InstanceShapes.InstanceShapes")!;
        var data = Sample.ToArray();
        data[0] = 9;
        var body = LanguageTests.Get(LanguageTests.Read(t, data), "Body")!;
        Assert.Equal((byte)9, LanguageTests.Get(body, "Key"));
        Assert.Equal(new byte[] { 9, 0xAA }, ((ReadOnlyMemory<byte>)LanguageTests.Get(body, "Bytes")!).ToArray());
    }
}

public class InstanceListTests
{
    [Fact]
    public void Elements_of_a_parse_instance_list_keep_the_stream_they_read_without_copying_it()
    {
        var t = LanguageTests.Compile("instance_lists.ksy").GetType("Snapshots.InstanceLists.InstanceLists")!;
        // 5000 entries over a 200 KB input: a copy of the stream per element would allocate 1 GB.
        const int n = 5000;
        var data = new byte[200_000];
        data[0] = n & 0xFF;
        data[1] = n >> 8;
        for (int i = 0; i < n; i++) { data[2 + 2 * i] = (byte)i; data[3 + 2 * i] = (byte)(i >> 8); }
        data[3] = 0x7A;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var m = LanguageTests.Read(t, data);
        var entries = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Entries")!).Cast<object>().ToArray();
        long sum = entries.Sum(e => (long)(byte)LanguageTests.Get(e, "Target")!);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(n, entries.Length);
        Assert.True(sum > 0);
        Assert.True(allocated < 50_000_000, $"{allocated} octets allocated for {n} entries");
    }
}

public class LateValueTests
{
    [Fact]
    public void Instances_read_root_and_parent_values_read_after_their_type_from_the_finished_model()
    {
        var t = LanguageTests.Compile("late_values.ksy").GetType("Snapshots.LateValues.LateValues")!;
        var data = Convert.FromHexString("0309058108");
        var m = LanguageTests.Read(t, data);
        var entries = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Entries")!).Cast<object>().ToArray();
        Assert.Equal(9L, LanguageTests.Get(entries[0], "NextOfs"));
        Assert.Equal(0L, LanguageTests.Get(entries[1], "NextOfs"));
        Assert.Equal(5L, LanguageTests.Get(entries[1], "RootKind"));
        Assert.Equal(true, LanguageTests.Get(LanguageTests.Get(m, "Flags")!, "Deflated"));
        Assert.Equal(8L, LanguageTests.Get(LanguageTests.Get(LanguageTests.Get(m, "Flags")!, "Sub")!, "GrandMethod"));
        Assert.Equal(8L, LanguageTests.Get(LanguageTests.Get(LanguageTests.Get(LanguageTests.Get(m, "Flags")!, "Mid")!, "Deep")!, "MethodThreeUp"));
        Assert.Equal(4L, LanguageTests.Get(LanguageTests.Get(m, "Table")!, "Again"));
        Assert.Equal(data, LanguageTests.Write(m));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Null(LanguageTests.Get(LanguageTests.Get(LanguageTests.Read(t, Convert.FromHexString("0102070000")), "Flags")!, "Deflated"));
    }

    [Fact]
    public void A_model_built_by_hand_has_no_owner_to_read_a_late_value_from_and_says_so()
    {
        var t = LanguageTests.Compile("late_values.ksy").GetType("Snapshots.LateValues.LateValues")!;
        var entry = Activator.CreateInstance(t.Assembly.GetType("Snapshots.LateValues.Entry")!)!;
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Get(entry, "RootKind"));
        Assert.Equal("late: value root_kind._root.kind: the value is read from the model that holds this one, which a model built by hand (not read) does not have",
            Assert.IsType<FgException>(e.InnerException).Message);
    }
}

public class StreamTests
{
    [Fact]
    public void Parse_instances_read_another_value_s_stream_their_parent_s_and_an_imported_root_s_own()
    {
        var t = LanguageTests.Compile("streams.ksy").GetType("Snapshots.Streams.Streams")!;
        var data = Convert.FromHexString("414234120205060107000908");
        var m = LanguageTests.Read(t, data);
        Assert.Equal((ushort)0x1234, LanguageTests.Get(m, "InHeader"));
        var blocks = ((System.Collections.IEnumerable)LanguageTests.Get(m, "Blocks")!).Cast<object>().ToArray();
        Assert.Equal((byte)2, LanguageTests.Get(LanguageTests.Get(blocks[0], "Body")!, "FromParentStream"));
        Assert.Equal((byte)1, LanguageTests.Get(LanguageTests.Get(blocks[1], "Body")!, "FromParentStream"));
        var inner = LanguageTests.Get(m, "Inner")!;
        Assert.Equal((byte)9, LanguageTests.Get(inner, "FirstAgain"));
        Assert.Equal(2L, LanguageTests.Get(inner, "SizeOfRoot"));
        Assert.Equal(data, LanguageTests.Write(m));
        Assert.Empty(LanguageTests.Validate(t, data));
    }
}

public class MagicOrderTests
{
    private static readonly byte[] Le = Convert.FromHexString("DE12049502000000" + "616200" + "00000000" + "0201");

    [Fact]
    public void A_byte_order_chosen_by_a_magic_and_repeated_contents_read_write_and_validate()
    {
        var t = LanguageTests.Compile("magic_order.ksy").GetType("Snapshots.MagicOrder.MagicOrder")!;
        var body = LanguageTests.Get(LanguageTests.Read(t, Le), "Body")!;
        Assert.Equal(2u, LanguageTests.Get(body, "Count"));
        Assert.Equal("ab", LanguageTests.Get(body, "Name"));
        var padding = ((System.Collections.IEnumerable)LanguageTests.Get(body, "Padding")!).Cast<ReadOnlyMemory<byte>>().ToArray();
        Assert.Equal(4, padding.Length);
        Assert.All(padding, p => Assert.Equal(new byte[] { 0 }, p.ToArray()));
        Assert.Equal((ushort)0x0102, LanguageTests.Get(body, "Value"));
        Assert.Equal(Le, LanguageTests.Write(LanguageTests.Read(t, Le)));
        Assert.Empty(LanguageTests.Validate(t, Le));
        var be = Convert.FromHexString("950412DE00000001" + "68656C6C6F00" + "00" + "0102");
        Assert.Equal(1u, LanguageTests.Get(LanguageTests.Get(LanguageTests.Read(t, be), "Body")!, "Count"));
    }

    [Fact]
    public void A_padding_octet_that_is_not_its_contents_is_one_error_and_an_unknown_magic_stops_the_read()
    {
        var t = LanguageTests.Compile("magic_order.ksy").GetType("Snapshots.MagicOrder.MagicOrder")!;
        var bad = Le.ToArray();
        bad[12] = 7;
        var v = Assert.Single(LanguageTests.Validate(t, bad));
        Assert.StartsWith("error: body.padding: field body.padding[1], offset 12 (0xc): ", v);
        var unknown = Le.ToArray();
        unknown[0] = 0;
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Read(t, unknown));
        Assert.Equal("endian", Assert.IsType<FgException>(e.InnerException).Rule);
    }
}

public class ParamTests
{
    [Fact]
    public void Parameters_of_every_type_read_and_write_back()
    {
        var t = LanguageTests.Compile("params.ksy").GetType("Snapshots.Params.Params")!;
        var data = Convert.FromHexString("020000C03F616200AABB020506010708090C0D");
        var m = LanguageTests.Read(t, data);
        var body = LanguageTests.Get(m, "Body")!;
        Assert.Equal(new byte[] { 7, 8, 9 }, ((System.Collections.Generic.IEnumerable<byte>)LanguageTests.Get(body, "Items")!).ToArray());
        Assert.Equal(new byte[] { 0x0C, 0x0D }, ((ReadOnlyMemory<byte>?)LanguageTests.Get(body, "Extra"))!.Value.ToArray());
        Assert.Equal((byte)2, LanguageTests.Get(body, "FromParent"));
        Assert.Equal(2L, LanguageTests.Get(body, "NameLen"));
        Assert.Equal(3.0, LanguageTests.Get(body, "DoubleR"));
        Assert.Equal(1L, LanguageTests.Get(body, "AnyN"));
        Assert.Equal(19L, LanguageTests.Get(body, "ParentSize"));
        Assert.Equal(true, LanguageTests.Get(body, "IsBigKind"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}

public class ExpressionTests
{
    [Fact]
    public void The_expression_language_computes_what_Kaitai_computes()
    {
        var t = LanguageTests.Compile("exprs.ksy").GetType("Snapshots.Exprs.Exprs")!;
        var data = Convert.FromHexString("FFF9025A3FC00000" + "61626300" + "DEADBEEF" + "0001012C0002" + "00" + "01" + "0304" + "0908");
        var m = LanguageTests.Read(t, data);
        object? G(string p) => LanguageTests.Get(m, p);
        // Kaitai's / rounds down and % takes the divisor's sign: -7 / 2 = -4, -7 % 2 = 1.
        Assert.Equal(-4L, G("DivFloor"));
        Assert.Equal(1L, G("ModPos"));
        Assert.Equal(8L, G("Shifted"));
        Assert.Equal(0xA5L, G("Bits"));
        Assert.Equal(0xA5L, G("XorNot"));
        Assert.Equal(3.25, G("RatioSum"));
        Assert.Equal(6L, G("RatioInt"));
        Assert.Equal("hi abc!", G("Greet"));
        Assert.Equal("ab", G("NameUpTo"));
        Assert.Equal(true, G("NameCmp"));
        Assert.Equal(0xEFL, G("OctetLast"));
        Assert.Equal(0xEFL, G("OctetMax"));
        Assert.Equal(0xADL, G("OctetMin"));
        Assert.Equal(true, G("OctetsEq"));
        Assert.Equal(1L, G("NumsFirst"));
        Assert.Equal(300L, G("NumsMax"));
        Assert.Equal(300L, G("NumsMid"));
        Assert.Equal(1UL, G("TagNum"));
        Assert.Equal(true, G("IsPair"));
        Assert.Equal(7L, G("BodySum"));
        Assert.Equal(2L, G("SizePair"));
        Assert.Equal(16L, G("BitsWord"));
        Assert.Equal(12L, G("BitsB12"));
        Assert.Equal(2L, G("SizePairSelf"));
        Assert.Equal("not positive", G("Pick"));
        Assert.Equal("2", G("HexStr"));
        Assert.Equal(15L + 5 + 1000 + 255, G("Literals"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}

public class ConditionTests
{
    [Fact]
    public void Value_instances_with_if_are_null_when_absent_and_an_error_where_an_expression_reads_them()
    {
        var t = LanguageTests.Compile("conditions.ksy").GetType("Snapshots.Conditions.Conditions")!;
        var full = LanguageTests.Read(t, Convert.FromHexString("0105060207084B5302"));
        Assert.Equal(5L, LanguageTests.Get(full, "FirstItem"));
        Assert.Null(LanguageTests.Get(full, "Doubled"));          // 5 is not above 5
        Assert.Equal("KS", LanguageTests.Get(full, "SigText"));
        Assert.Equal(2L, LanguageTests.Get(full, "TextLength"));
        Assert.Equal(15L, LanguageTests.Get(full, "PairSum"));
        Assert.Equal(15L, LanguageTests.Get(LanguageTests.Get(full, "Body")!, "TotalOrZero"));
        var bare = LanguageTests.Read(t, Convert.FromHexString("00004B5301"));
        Assert.Null(LanguageTests.Get(bare, "FirstItem"));
        Assert.Null(LanguageTests.Get(bare, "SigText"));
        Assert.Null(LanguageTests.Get(bare, "PairSum"));
        var e = Assert.Throws<TargetInvocationException>(() => LanguageTests.Get(bare, "TextLength"));
        var fg = Assert.IsType<FgException>(e.InnerException);
        Assert.Equal("absent: value sig_text: the value is absent (its 'if' is false) and an expression reads it", fg.Message);
    }

    [Fact]
    public void Conditional_lists_and_switches_and_byte_array_rules_read_write_and_validate()
    {
        var t = LanguageTests.Compile("conditions.ksy").GetType("Snapshots.Conditions.Conditions")!;
        var full = Convert.FromHexString("0105060207084B5302");
        var m = LanguageTests.Read(t, full);
        Assert.Equal(new byte[] { 5, 6 }, ((System.Collections.Generic.IEnumerable<byte>)LanguageTests.Get(m, "Items")!).ToArray());
        Assert.Equal((byte)7, LanguageTests.Get(LanguageTests.Get(m, "Body")!, "A"));
        Assert.Equal(2L, LanguageTests.Get(m, "ItemCount"));
        Assert.Equal(full, LanguageTests.Write(m));
        var bare = Convert.FromHexString("00004B5301");
        var b = LanguageTests.Read(t, bare);
        Assert.Null(LanguageTests.Get(b, "Items"));
        Assert.Null(LanguageTests.Get(b, "Body"));
        Assert.Equal(bare, LanguageTests.Write(b));
        Assert.Empty(LanguageTests.Validate(t, full));
        var bad = Convert.FromHexString("00004B5403");
        var errors = LanguageTests.Validate(t, bad);
        Assert.True(errors.Length == 2 && errors.Any(e => e.Contains("conditions.sig") && e.Contains("found 2 octets [4b54]")), string.Join("\n", errors));
        Assert.Contains(errors, e => e.Contains("conditions.version"));
    }
}

public class IdiomTests
{
    [Fact]
    public void Idioms_of_the_public_corpus_read_write_and_compute_as_Kaitai_does()
    {
        var t = LanguageTests.Compile("idioms.ksy").GetType("Snapshots.Idioms.Idioms")!;
        var data = Convert.FromHexString("49441A7701020180A00200000000000000AABB0101CC0506010203");
        var m = LanguageTests.Read(t, data);
        object? G(string p) => LanguageTests.Get(m, p);
        Assert.Equal((byte)0x77, G("Unnamed1"));
        Assert.Equal(259L, G("NumPlusOne"));
        Assert.Equal(2.0, G("Scaled"));
        Assert.Equal(258L, G("Signed"));
        Assert.Equal(20L, G("Table"));
        Assert.Equal(27L, G("WholeSize"));
        Assert.Equal(0L, G("LeftAtEnd"));
        Assert.Equal(true, G("AtEnd"));
        Assert.Equal("On", G("Mode")!.ToString());
        Assert.Equal((byte)0xA0, LanguageTests.Get(G("Nibble")!, "Value"));
        var entries = ((System.Collections.IEnumerable)G("Entries")!).Cast<object>().ToArray();
        Assert.Equal(true, LanguageTests.Get(entries[1], "Flagged"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}

public class AboveTests
{
    [Fact]
    public void Strings_floats_byte_arrays_models_and_lists_read_from_root_and_parent()
    {
        var t = LanguageTests.Compile("above.ksy").GetType("Snapshots.Above.Above")!;
        var data = Convert.FromHexString("4D5A6162000000C03F0203090102030405 06".Replace(" ", ""));
        var m = LanguageTests.Read(t, data);
        var items = ((System.Collections.IEnumerable)LanguageTests.Get(LanguageTests.Get(m, "Body")!, "Items")!).Cast<object>().ToArray();
        Assert.Equal(2, items.Length);
        Assert.Equal(new byte[] { 4, 5, 6 }, ((ReadOnlyMemory<byte>)LanguageTests.Get(items[1], "Data")!).ToArray());
        Assert.Equal("ab", LanguageTests.Get(items[0], "OwnerName"));
        Assert.Equal(0.75, LanguageTests.Get(items[0], "HalfRatio"));
        Assert.Equal(0x4DL, LanguageTests.Get(items[0], "MagicFirst"));
        Assert.Equal(2L, LanguageTests.Get(items[0], "Header"));
        Assert.Empty(LanguageTests.Validate(t, data));
        Assert.Equal(data, LanguageTests.Write(m));
    }
}
