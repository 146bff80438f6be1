using System;

namespace FormatGen.Runtime;

/// <summary>
/// A stream handed to a type as a parameter (Kaitai's <c>io</c> parameter
/// type): the octets of a (sub)stream and where they begin in the whole input.
/// A type reads from it in its parse instances (<c>io: the_parameter</c>).
/// </summary>
public readonly struct FgIo : IEquatable<FgIo>
{
    public FgIo(ReadOnlyMemory<byte> octets, long offset)
    {
        Octets = octets;
        Offset = offset;
    }

    /// <summary>The octets of the stream.</summary>
    public ReadOnlyMemory<byte> Octets { get; }

    /// <summary>Absolute offset of the stream's first octet in the input.</summary>
    public long Offset { get; }

    /// <summary>Kaitai's <c>size</c> of a stream.</summary>
    public long Size => Octets.Length;

    public bool Equals(FgIo other) => Offset == other.Offset && Octets.Span.SequenceEqual(other.Octets.Span);

    public override bool Equals(object? obj) => obj is FgIo o && Equals(o);

    public override int GetHashCode() => HashCode.Combine(Offset, Octets.Length);
}
