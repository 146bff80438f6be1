using System;
using System.Buffers.Binary;

namespace FormatGen.Runtime;

/// <summary>
/// Endian-aware writer over a span, used by generated writers. A writer
/// created with <see cref="Measure"/> writes nothing and only counts, so the
/// same generated code computes a serialised size and then writes it.
/// </summary>
public ref struct FgWriter
{
    private readonly Span<byte> _buf;
    private readonly bool _measure;
    private int _pos;
    private ulong _bits;       // bits written but not yet a whole octet (bit-sized integers)
    private int _bitCount;
    private bool _bitsLe;

    public FgWriter(Span<byte> destination, bool littleEndian = false)
    {
        _buf = destination;
        _measure = false;
        _pos = 0;
        LittleEndian = littleEndian;
    }

    private FgWriter(bool littleEndian)
    {
        _buf = default;
        _measure = true;
        _pos = 0;
        LittleEndian = littleEndian;
    }

    /// <summary>A writer that only counts octets.</summary>
    public static FgWriter Measure(bool littleEndian = false) => new(littleEndian);

    public bool LittleEndian;

    /// <summary>Set by a stream writer: fields marked <c>-fg-handoff</c> are left out (their caller writes the nested stream after the element).</summary>
    public bool StopAtHandoff;

    public readonly int Position => _pos;

    [ThreadStatic] private static int t_nesting; // levels entered and not left on this thread

    /// <summary>
    /// Enters one level of a type that contains itself; fails past <see cref="FgReader.MaxNesting"/>
    /// levels (what no reader would read back), or when the thread's stack is nearly used up, so a
    /// model built by hand, nested however deep, cannot overflow the stack. For generated code only.
    /// </summary>
    public void Nest(string type)
    {
        if (t_nesting >= FgReader.MaxNesting || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new FgWriteException(type, "'" + type + "' nests deeper than "
                + FgReader.MaxNesting.ToString(System.Globalization.CultureInfo.InvariantCulture) + " levels (or than this thread's stack allows), which no reader reads back");
        t_nesting++;
    }

    /// <summary>Leaves a level entered by <see cref="Nest"/>. For generated code only.</summary>
    public void Unnest() => t_nesting--;

    public readonly bool IsMeasuring => _measure;

    private Span<byte> Next(int n)
    {
        if (_bitCount > 0) AlignToByte();
        int at = _pos;
        _pos = checked(_pos + n);
        return _measure ? default : _buf.Slice(at, n);
    }

    public void U1(byte v) { var s = Next(1); if (!_measure) s[0] = v; }

    public void F4(float v) => U4((uint)BitConverter.SingleToInt32Bits(v));
    public void F8(double v) => U8((ulong)BitConverter.DoubleToInt64Bits(v));
    public void F4(float v, bool littleEndian) => U4((uint)BitConverter.SingleToInt32Bits(v), littleEndian);
    public void F8(double v, bool littleEndian) => U8((ulong)BitConverter.DoubleToInt64Bits(v), littleEndian);

    /// <summary>Writes an integer of <paramref name="n"/> bits (see <see cref="FgReader.Bits"/>); bit fields share octets.</summary>
    public void Bits(ulong value, int n, bool littleEndian)
    {
        if (_bitCount > 0 && littleEndian != _bitsLe) AlignToByte();
        _bitsLe = littleEndian;
        // At most 32 bits at a time: with up to 7 pending, the accumulator never overflows.
        while (n > 0)
        {
            int k = Math.Min(n, 32);
            ulong part;
            if (littleEndian) { part = value & ((1UL << k) - 1); value = k >= 64 ? 0 : value >> k; }
            else { part = (value >> (n - k)) & ((1UL << k) - 1); }
            if (littleEndian) _bits |= part << _bitCount;
            else _bits = (_bits << k) | part;
            _bitCount += k;
            n -= k;
            while (_bitCount >= 8)
            {
                byte b;
                if (littleEndian) { b = (byte)_bits; _bits >>= 8; }
                else { b = (byte)(_bits >> (_bitCount - 8)); _bits &= (1UL << (_bitCount - 8)) - 1; }
                _bitCount -= 8;
                int at = _pos;
                _pos = checked(_pos + 1);
                if (!_measure) _buf[at] = b;
            }
        }
    }

    /// <summary>Completes a partly written octet with zero bits.</summary>
    public void AlignToByte()
    {
        if (_bitCount == 0) return;
        byte b = _bitsLe ? (byte)_bits : (byte)(_bits << (8 - _bitCount));
        _bits = 0;
        _bitCount = 0;
        int at = _pos;
        _pos = checked(_pos + 1);
        if (!_measure) _buf[at] = b;
    }
    public void S1(sbyte v) => U1((byte)v);

    public void U2(ushort v)
    {
        var s = Next(2);
        if (_measure) return;
        if (LittleEndian) BinaryPrimitives.WriteUInt16LittleEndian(s, v); else BinaryPrimitives.WriteUInt16BigEndian(s, v);
    }

    public void U4(uint v)
    {
        var s = Next(4);
        if (_measure) return;
        if (LittleEndian) BinaryPrimitives.WriteUInt32LittleEndian(s, v); else BinaryPrimitives.WriteUInt32BigEndian(s, v);
    }

    public void U8(ulong v)
    {
        var s = Next(8);
        if (_measure) return;
        if (LittleEndian) BinaryPrimitives.WriteUInt64LittleEndian(s, v); else BinaryPrimitives.WriteUInt64BigEndian(s, v);
    }

    /// <summary>Writes with a byte order fixed by the grammar (u2le, u4be, ...).</summary>
    public void U2(ushort v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; U2(v); LittleEndian = s; }
    public void U4(uint v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; U4(v); LittleEndian = s; }
    public void U8(ulong v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; U8(v); LittleEndian = s; }
    public void S2(short v, bool littleEndian) => U2((ushort)v, littleEndian);
    public void S4(int v, bool littleEndian) => U4((uint)v, littleEndian);
    public void S8(long v, bool littleEndian) => U8((ulong)v, littleEndian);
    public void U1(byte v, bool littleEndian) => U1(v);
    public void S1(sbyte v, bool littleEndian) => S1(v);

    public void PatchU2(int position, ushort v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; PatchU2(position, v); LittleEndian = s; }
    public void PatchU4(int position, uint v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; PatchU4(position, v); LittleEndian = s; }
    public void PatchU8(int position, ulong v, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; PatchU8(position, v); LittleEndian = s; }
    public void PatchU1(int position, byte v, bool littleEndian) => PatchU1(position, v);

    public void S2(short v) => U2((ushort)v);
    public void S4(int v) => U4((uint)v);
    public void S8(long v) => U8((ulong)v);

    public void Bytes(ReadOnlySpan<byte> v)
    {
        var s = Next(v.Length);
        if (!_measure) v.CopyTo(s);
    }

    /// <summary>Writes a value that ends with a terminator octet (unless the value includes it, or the terminator is not consumed).</summary>
    public void Terminated(ReadOnlySpan<byte> value, byte terminator, bool include, bool consume)
    {
        Bytes(value);
        if (!include && consume) U1(terminator);
    }

    /// <summary>
    /// Writes a value into a field of <paramref name="size"/> octets: the value,
    /// its terminator if there is one and room for it, then padding.
    /// </summary>
    public void Sized(ReadOnlySpan<byte> value, int size, int terminator, int pad, string field)
    {
        int n = value.Length + (terminator >= 0 && value.Length < size ? 1 : 0);
        if (value.Length > size)
            throw new FgWriteException(field, "takes " + value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " octets; the grammar gives it " + size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Bytes(value);
        if (n > value.Length) U1((byte)terminator);
        var rest = Next(size - n);
        if (!_measure) rest.Fill((byte)(pad >= 0 ? pad : 0));
    }

    public void Zeros(int n)
    {
        var s = Next(n);
        if (!_measure) s.Clear();
    }

    /// <summary>Rewrites a u4 at an earlier position (a length known only after its content).</summary>
    public void PatchU4(int position, uint v)
    {
        if (_measure) return;
        var s = _buf.Slice(position, 4);
        if (LittleEndian) BinaryPrimitives.WriteUInt32LittleEndian(s, v); else BinaryPrimitives.WriteUInt32BigEndian(s, v);
    }

    public void PatchU2(int position, ushort v)
    {
        if (_measure) return;
        var s = _buf.Slice(position, 2);
        if (LittleEndian) BinaryPrimitives.WriteUInt16LittleEndian(s, v); else BinaryPrimitives.WriteUInt16BigEndian(s, v);
    }

    public void PatchU1(int position, byte v)
    {
        if (!_measure) _buf[position] = v;
    }

    public void PatchU8(int position, ulong v)
    {
        if (_measure) return;
        var s = _buf.Slice(position, 8);
        if (LittleEndian) BinaryPrimitives.WriteUInt64LittleEndian(s, v); else BinaryPrimitives.WriteUInt64BigEndian(s, v);
    }
}
