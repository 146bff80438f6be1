using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace FormatGen.Xen;

/// <summary>What an input starts with.</summary>
public enum ImageKind
{
    /// <summary>Too short to tell (fewer than 8 octets).</summary>
    Unknown,
    /// <summary>A libxc stream (version 2 or later): all-ones marker, then "XENF".</summary>
    Libxc,
    /// <summary>A libxl stream: "LibxlFmt".</summary>
    Libxl,
    /// <summary>An xl save file: "Xen saved domain, xl format".</summary>
    XlSaveFile,
    /// <summary>A legacy (pre-v2) libxc image: its first octets are what a Xen 4.5 or earlier save begins with.</summary>
    Legacy,
    /// <summary>None of the Xen formats.</summary>
    NotXen,
}

/// <summary>A legacy image's toolstack word size and guest type, as its first octets suggest.</summary>
public readonly record struct LegacyGuess(int ToolstackBits, bool Pv)
{
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{(Pv ? "PV" : "HVM")} guest, {ToolstackBits}-bit toolstack");
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
        return TryGuessLegacy(head, out _) ? ImageKind.Legacy : ImageKind.NotXen;
    }

    /// <summary>
    /// Whether the first octets are those of a legacy image, and which kind
    /// (xen-formats.md, section 4). The image names no word size: octets 4-7
    /// tell. Zero there is the high half of a 64-bit toolstack's p2m_size; a
    /// 32-bit toolstack puts the next word there: the PV extended-info marker
    /// (all ones) or an HVM image's first chunk (a negative chunk type or a
    /// positive page count). Either way p2m_size is not zero, and what follows
    /// it must be one of those.
    /// </summary>
    public static bool TryGuessLegacy(ReadOnlySpan<byte> head, out LegacyGuess guess)
    {
        guess = default;
        if (head.Length < 8) return false;
        bool wide = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(4)) == 0;
        int word = wide ? 8 : 4;
        ulong p2mSize = wide ? BinaryPrimitives.ReadUInt64LittleEndian(head) : BinaryPrimitives.ReadUInt32LittleEndian(head);
        if (p2mSize == 0) return false;
        var next = head.Slice(word);
        if (next.Length >= word && IsAllOnes(next.Slice(0, word)))
        {
            // PV: the extended-info marker, a u32 total length, then a block id (when there are blocks).
            var rest = next.Slice(word);
            if (rest.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(rest) != 0 && !IsBlockId(rest.Slice(4, 4))) return false;
            guess = new LegacyGuess(word * 8, Pv: true);
            return true;
        }
        if (next.Length < 4) return false;
        int chunk = BinaryPrimitives.ReadInt32LittleEndian(next);
        // HVM: a metadata chunk (-1 to -20) or a batch of at most 1024 pages.
        if (chunk is (>= -20 and <= -1) or (>= 1 and <= 1024))
        {
            guess = new LegacyGuess(word * 8, Pv: false);
            return true;
        }
        return false;
    }

    private static bool IsAllOnes(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept((byte)0xff) < 0;

    /// <summary>Whether four octets are a PV extended-info block id ("vcpu", "extv", "xcnt").</summary>
    public static bool IsBlockId(ReadOnlySpan<byte> id) => id.SequenceEqual("vcpu"u8) || id.SequenceEqual("extv"u8) || id.SequenceEqual("xcnt"u8);

    public static string Describe(ImageKind kind) => kind switch
    {
        ImageKind.Libxc => "libxc stream",
        ImageKind.Libxl => "libxl stream",
        ImageKind.XlSaveFile => "xl save file",
        ImageKind.Legacy => "legacy (pre-v2) libxc image",
        ImageKind.NotXen => "not a Xen image",
        _ => "too short to tell",
    };

    /// <summary>The first octets in hex and as text, for a message about an input that is not what it should be.</summary>
    public static string Show(ReadOnlySpan<byte> head, int max = 16)
    {
        var n = Math.Min(head.Length, max);
        var hex = new StringBuilder();
        var text = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            if (i > 0) hex.Append(' ');
            hex.Append(head[i].ToString("x2", CultureInfo.InvariantCulture));
            text.Append(head[i] is >= 0x20 and < 0x7f ? (char)head[i] : '.');
        }
        return hex + (head.Length > n ? " ..." : "") + " (\"" + text + "\")";
    }
}
