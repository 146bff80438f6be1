using System;
using System.Globalization;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen
{

/// <summary>Xen's spelling of record types (PAGE_DATA, X86_PV_INFO, ...).</summary>
public static class RecordNames
{
    // Xen's names of the types the grammar names, made once: every record asks for its name.
    private static readonly string?[] LibxcNames = Table(64, v => ((RecordType)v).KsyName());
    private static readonly string?[] LibxlNames = Table(64, v => Libxl.RecordTypeNames.KsyName((Libxl.RecordType)v));

    private static string?[] Table(uint count, Func<uint, string?> ksyName)
    {
        var names = new string?[count];
        for (uint v = 0; v < count; v++) names[v] = ksyName(v)?.ToUpperInvariant();
        return names;
    }

    /// <summary>The Xen name of a record type, or its number when the grammar does not name it.</summary>
    public static string Of(RecordType type)
        => (uint)type < (uint)LibxcNames.Length && LibxcNames[(uint)type] is { } known ? known
            : type.KsyName() is { } name ? name.ToUpperInvariant()
            : ((ulong)type & 0x80000000UL) != 0 ? "OPTIONAL_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture)
            : "UNKNOWN_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture);

    /// <summary>The Xen name of a libxl record type (LIBXC_CONTEXT, CHECKPOINT_END, ...), or its number.</summary>
    public static string Of(Libxl.RecordType type)
        => (uint)type < (uint)LibxlNames.Length && LibxlNames[(uint)type] is { } known ? known
            : Libxl.RecordTypeNames.KsyName(type) is { } name ? name.ToUpperInvariant() : "UNKNOWN_0x" + ((ulong)type).ToString("X8", CultureInfo.InvariantCulture);

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
