using System;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using LibxlG = FormatGen.Xen.Libxl;
using XlG = FormatGen.Xen.Xl;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// The libxl and xl grammars (grammar/xen/libxl.ksy, xl.ksy) on files built
/// octet by octet from Xen's headers (<see cref="Containers"/>): what each field
/// reads, and one clear error for each malformation. Kaitai's reading of the
/// same files is compared by KaitaiOracleTests.
/// </summary>
public class ContainerGrammarTests
{
    private static byte[] LibxcHvm()
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Hvm, Version = 3, MemoryBytes = 16 << 10, PagesPerRecord = 2, Vcpus = 1 });
        return ms.ToArray();
    }

    private static byte[] LibxlHvm(bool bigEndian = false, params byte[][] emulator)
        => Containers.Libxl(LibxcHvm(), bigEndian, false, emulator.Length > 0 ? emulator : new[]
        {
            Containers.XenstoreData(2, 0, new[] { "physmap/1/start_addr", "f0000000" }, bigEndian),
            Containers.EmulatorContext(2, 0, new byte[] { 9, 8, 7 }, bigEndian),
        });

    [Fact]
    public void An_xl_save_file_reads_its_header_configuration_libxl_records_and_the_libxc_stream_inside()
    {
        var file = Containers.Xl(LibxlHvm(), "name = \"guest\"\n", json: false);
        var xl = XlG.Xl.Read(file);
        Assert.False(xl.Header.ConfigIsJson);
        Assert.True(xl.Header.StreamV2);
        Assert.Equal("name = \"guest\"\n", xl.Header.OptionalData.Config);
        var libxl = xl.Libxl!;
        Assert.False(libxl.Header.BigEndian);
        Assert.Equal(new[] { LibxlG.RecordType.LibxcContext, LibxlG.RecordType.EmulatorXenstoreData, LibxlG.RecordType.EmulatorContext, LibxlG.RecordType.End },
            libxl.Body.Records.Select(r => r.Type));
        var libxc = libxl.Body.Records[0].Libxc!;
        Assert.Equal(FormatGen.Xen.Libxc.DomainType.X86Hvm, libxc.Body.DomainHeader.Type);
        Assert.Equal(FormatGen.Xen.Libxc.RecordType.End, libxc.Body.Records[^1].Type);
        var xs = Assert.IsType<LibxlG.EmulatorXenstoreData>(libxl.Body.Records[1].Body);
        Assert.Equal(LibxlG.EmulatorId.QemuUpstream, xs.Emulator.EmulatorId);
        Assert.Equal(new[] { "physmap/1/start_addr", "f0000000" }, xs.Strings);
        Assert.Empty(XlG.Xl.Validate(file));
        Assert.Equal(file, xl.ToArray());
    }

    [Fact]
    public void A_big_endian_libxl_stream_and_a_legacy_xl_file_read_too()
    {
        var be = LibxlG.Libxl.Read(LibxlHvm(bigEndian: true));
        Assert.True(be.Header.BigEndian);
        Assert.Equal(LibxlG.RecordType.End, be.Body.Records[^1].Type);
        var legacy = XlG.Xl.Read(Containers.Xl(new byte[] { 0, 0, 0x10, 0, 1, 2 }, null, json: false, v2: false));
        Assert.False(legacy.Header.StreamV2);
        Assert.Null(legacy.Libxl);
        Assert.Equal(new byte[] { 0, 0, 0x10, 0, 1, 2 }, legacy.LegacyImage!.Value.ToArray());
    }

    public static TheoryData<string, string, string> Malformations() => new()
    {
        { "a libxl stream with a wrong ident", "libxl-ident", "error: libxl-ident: field libxl.header.ident, offset 55 (0x37)" },
        { "reserved libxl option bits", "libxl-options-reserved", "error: libxl-options-reserved: field libxl.header.options, offset 67 (0x43)" },
        { "an unknown mandatory xl flag", "xl-mandatory-flags", "error: xl-mandatory-flags: field header.mandatory_flags, offset 36 (0x24)" },
        { "an odd number of xenstore strings", "libxl-xenstore-pairs", "error: libxl-xenstore-pairs" },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void Each_container_malformation_is_one_error_naming_its_rule_and_place(string what, string rule, string start)
    {
        var config = "x\n"; // the libxl stream starts at 55: magic 32, byte order 4, flags and length 12, configuration 4 + 3
        byte[] file = what switch
        {
            "a libxl stream with a wrong ident" => Patch(Containers.Xl(LibxlHvm(), config, false), 55, 0x58),
            "reserved libxl option bits" => Patch(Containers.Xl(LibxlHvm(), config, false), 67, 0x04),
            "an unknown mandatory xl flag" => Containers.Xl(LibxlHvm(), config, false, extraFlags: 0x10),
            _ => Containers.Xl(LibxlHvm(false, Containers.XenstoreData(2, 0, new[] { "a", "b", "c" })), config, false),
        };
        var errors = XlG.Xl.Validate(file).Where(v => v.Severity == FgSeverity.Error).ToList();
        var e = Assert.Single(errors);
        Assert.Equal(rule, e.Rule);
        Assert.StartsWith(start, e.ToString());
    }

    private static byte[] Patch(byte[] data, int at, byte value)
    {
        var copy = data.ToArray();
        copy[at] = value;
        return copy;
    }
}
