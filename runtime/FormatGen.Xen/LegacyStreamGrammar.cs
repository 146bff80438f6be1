using System;
using System.Buffers.Binary;
using System.Globalization;

namespace FormatGen.Xen.Legacy;

/// <summary>Messages about a legacy image name its chunks as such, by kind.</summary>
public sealed partial class LegacyStreamGrammar
{
    public override string ElementNoun => "chunk";

    partial void LabelCore(ReadOnlySpan<byte> element, ref string? label)
    {
        if (element.Length < 4) return;
        int marker = BinaryPrimitives.ReadInt32LittleEndian(element);
        label = marker > 0
            ? string.Create(CultureInfo.InvariantCulture, $"page batch of {marker}")
            : ((ChunkType)marker).KsyName()?.ToUpperInvariant();
    }
}
