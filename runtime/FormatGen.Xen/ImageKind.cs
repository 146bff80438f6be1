using System;
using System.Buffers.Binary;

namespace FormatGen.Xen;

/// <summary>What a Xen domain image starts with.</summary>
public enum ImageKind
{
    /// <summary>Too short to tell.</summary>
    Unknown,
    /// <summary>A libxc stream (version 2 or later): all-ones marker, then "XENF".</summary>
    Libxc,
    /// <summary>A libxl stream: "LibxlFmt".</summary>
    Libxl,
    /// <summary>An xl save file: "Xen saved domain, xl format".</summary>
    XlSaveFile,
    /// <summary>A legacy (pre-v2) libxc image: a zero bit in the first 8 octets.</summary>
    Legacy,
}

/// <summary>Tells the Xen image formats apart from their first octets.</summary>
public static class ImageDetector
{
    /// <summary>Octets <see cref="Detect"/> wants to see.</summary>
    public const int PeekLength = 32;

    private static ReadOnlySpan<byte> XlMagic => "Xen saved domain, xl format\n \0 \r"u8;
    private static ReadOnlySpan<byte> LibxlIdent => "LibxlFmt"u8;

    public static ImageKind Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= XlMagic.Length && head.StartsWith(XlMagic)) return ImageKind.XlSaveFile;
        if (head.Length >= 8 && head.StartsWith(LibxlIdent)) return ImageKind.Libxl;
        if (head.Length < 8) return ImageKind.Unknown;
        if (BinaryPrimitives.ReadUInt64BigEndian(head) == ulong.MaxValue) return ImageKind.Libxc;
        return ImageKind.Legacy;
    }

    public static string Describe(ImageKind kind) => kind switch
    {
        ImageKind.Libxc => "libxc stream",
        ImageKind.Libxl => "libxl stream",
        ImageKind.XlSaveFile => "xl save file",
        ImageKind.Legacy => "legacy (pre-v2) libxc image",
        _ => "unrecognised input",
    };
}
