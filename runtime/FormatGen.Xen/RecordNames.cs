using System;
using System.Globalization;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen
{

/// <summary>Xen's spelling of record types (PAGE_DATA, X86_PV_INFO, ...).</summary>
public static class RecordNames
{
    // Names of the low type numbers, made once: a name is asked for every record.
    private static readonly string?[] LibxcNames = new string?[64], LibxlNames = new string?[64];

    /// <summary>The Xen name of a record type, or its number when the grammar does not name it.</summary>
    public static string Of(RecordType type)
        => (uint)type < 64 ? LibxcNames[(uint)type] ??= Name(type) : Name(type);

    /// <summary>The Xen name of a libxl record type (LIBXC_CONTEXT, CHECKPOINT_END, ...), or its number.</summary>
    public static string Of(Libxl.RecordType type)
        => (uint)type < 64 ? LibxlNames[(uint)type] ??= Name(type) : Name(type);

    private static string Name(RecordType type)
        => type.KsyName() is { } name ? name.ToUpperInvariant()
            : ((ulong)type & 0x80000000UL) != 0 ? "OPTIONAL_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture)
            : "UNKNOWN_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture);

    private static string Name(Libxl.RecordType type)
        => Libxl.RecordTypeNames.KsyName(type) is { } name ? name.ToUpperInvariant() : "UNKNOWN_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>
    /// A grammar's name for an enum value (<c>x.KsyName()</c>) in Xen's
    /// spelling, UPPER_SNAKE (page_data: PAGE_DATA), or the number itself.
    /// </summary>
    public static string Upper(string? ksyName, long value)
        => ksyName?.ToUpperInvariant() ?? value.ToString(CultureInfo.InvariantCulture);
}

}

namespace FormatGen.Xen.Libxc
{
    public sealed partial class LibxcStreamGrammar
    {
        partial void LabelCore(ReadOnlySpan<byte> element, ref string? label)
        {
            if (element.Length >= 4) label = RecordNames.Of(Record.PeekType(element, ElementsLittleEndian));
        }
    }
}

namespace FormatGen.Xen.Libxl
{
    public sealed partial class LibxlStreamGrammar
    {
        partial void LabelCore(ReadOnlySpan<byte> element, ref string? label)
        {
            if (element.Length >= 4) label = "libxl " + FormatGen.Xen.RecordNames.Of(Record.PeekType(element, ElementsLittleEndian));
        }
    }
}
