using System;
using System.Text;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen
{

/// <summary>Xen's spelling of record types (PAGE_DATA, X86_PV_INFO, ...).</summary>
public static class RecordNames
{
    /// <summary>The Xen name of a record type, or its number when the grammar does not name it.</summary>
    public static string Of(RecordType type)
    {
        if (!Enum.IsDefined(type))
            return ((ulong)type & 0x80000000UL) != 0
                ? "OPTIONAL_0x" + ((ulong)type).ToString("X8", System.Globalization.CultureInfo.InvariantCulture)
                : "UNKNOWN_0x" + ((ulong)type).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        return UpperSnake(type.ToString());
    }

    /// <summary>The Xen name of a libxl record type (LIBXC_CONTEXT, CHECKPOINT_END, ...), or its number.</summary>
    public static string Of(Libxl.RecordType type)
        => Enum.IsDefined(type) ? UpperSnake(type.ToString()) : "UNKNOWN_0x" + ((ulong)type).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>PascalCase back to the grammar's UPPER_SNAKE spelling (X86PvP2mFrames -> X86_PV_P2M_FRAMES).</summary>
    public static string UpperSnake(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (i > 0 && char.IsUpper(c)) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }
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
