using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FormatGen.Runtime;

/// <summary>
/// Endian-aware reader over a span, used by generated readers. Positions are
/// relative to the span; <see cref="Offset"/> adds the absolute offset of the
/// span's first byte so every error names a byte offset in the whole input.
/// </summary>
/// <remarks>
/// In soft mode a read that runs past the end of the available data (but not
/// past the end of a substream) does not throw: it sets <see cref="IsShort"/>,
/// records how many bytes would have been needed in <see cref="Needed"/> and
/// returns zero. A streaming reader then fetches that many bytes and parses
/// again. This keeps the per-record path free of exceptions and allocations.
/// </remarks>
public ref struct FgReader
{
    private readonly ReadOnlySpan<byte> _buf;
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly bool _hasMemory;
    private readonly long _base;
    private readonly bool _soft;
    private readonly bool _skipAhead;
    private int _pos;
    private ulong _bits;      // bits read but not yet used (bit-sized integers)
    private int _bitsLeft;
    private int _limit;
    private int _readLimit;   // min(_limit, data length): reads need real octets
    private bool _limitIsSubstream;
    private int _ioStart;     // where the current (sub)stream begins: Kaitai's _io
    private int _empty;       // elements of repeats that took no octets, in this read
    private int _rootStart;   // Kaitai's _root._io: where the root being read begins
    private int _rootEnd;     // and ends, when _rootWindow (otherwise every octet given)
    private bool _rootWindow;

    /// <param name="data">The octets at hand.</param>
    /// <param name="littleEndian">Initial byte order.</param>
    /// <param name="baseOffset">Absolute offset of the first octet, for messages.</param>
    /// <param name="soft">Report reads past the octets at hand through <see cref="IsShort"/> instead of throwing.</param>
    /// <param name="skipAhead">
    /// Soft mode only: inside a sized field, <see cref="Skip"/> may move past the
    /// octets at hand (the caller then discards them from its input instead of
    /// buffering them). Reads still need real octets.
    /// </param>
    public FgReader(ReadOnlySpan<byte> data, bool littleEndian = false, long baseOffset = 0, bool soft = false, bool skipAhead = false)
    {
        _buf = data;
        _memory = default;
        _hasMemory = false;
        _base = baseOffset;
        _soft = soft;
        _skipAhead = soft && skipAhead;
        _pos = 0;
        _limit = data.Length;
        _readLimit = data.Length;
        _limitIsSubstream = false;
        _ioStart = 0;
        LittleEndian = littleEndian;
        IsShort = false;
        Needed = 0;
        SizeLimit = long.MaxValue;
        ElementLimit = long.MaxValue;
    }

    /// <summary>Octets at hand.</summary>
    internal int Length => _buf.Length;

    public FgReader(ReadOnlyMemory<byte> data, bool littleEndian = false, long baseOffset = 0, bool soft = false, bool skipAhead = false)
        : this(data.Span, littleEndian, baseOffset, soft, skipAhead)
    {
        _memory = data;
        _hasMemory = true;
    }

    /// <summary>A reader over memory whose span the caller has at hand already (the same octets).</summary>
    internal FgReader(ReadOnlyMemory<byte> data, ReadOnlySpan<byte> span, bool littleEndian, long baseOffset, bool soft)
        : this(span, littleEndian, baseOffset, soft, skipAhead: false)
    {
        _memory = data;
        _hasMemory = true;
    }

    /// <summary>Byte order used by the next multi-byte read.</summary>
    public bool LittleEndian;

    /// <summary>The largest size a field marked <c>-fg-limit</c> may have; a stream reader sets it from its element limit.</summary>
    public long SizeLimit;

    /// <summary>
    /// The longest element a stream reader accepts. A read past the end of the
    /// input that would take the element past it runs short (<see cref="IsShort"/>)
    /// even when the reader is not soft, so the stream reader refuses the element
    /// on its limit, as when more input may follow: the same answer from memory
    /// as from a pipe.
    /// </summary>
    internal long ElementLimit;

    /// <summary>Refuses a size over <see cref="SizeLimit"/> before any of its octets is read or buffered.</summary>
    public readonly void CheckSizeLimit(long size, string field)
    {
        if (size > SizeLimit)
            throw FgException.Invalid("record-length-limit", field, Offset,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{size} octets exceed the limit of {SizeLimit} octets"));
    }

    /// <summary>
    /// Set by a stream reader: a field marked <c>-fg-handoff</c> is not read;
    /// the element ends before it and <see cref="HandedOff"/> tells the caller
    /// that the octets from there on are another stream's (a nested stream).
    /// </summary>
    public bool StopAtHandoff;

    /// <summary>A field marked <c>-fg-handoff</c> was present and left to the caller (see <see cref="StopAtHandoff"/>).</summary>
    public bool HandedOff;

    /// <summary>Soft mode only: a read ran past the available data.</summary>
    public bool IsShort;

    /// <summary>Soft mode only: the span length that would have satisfied the first short read.</summary>
    public long Needed;

    /// <summary>Position relative to the start of the span; with skip-ahead it may lie past its end.</summary>
    public readonly int Position => _pos;

    /// <summary>Absolute offset of the current position in the whole input.</summary>
    public readonly long Offset => _base + _pos;

    /// <summary>Octets left before the end of the current (sub)stream.</summary>
    public readonly int Remaining => _limit - _pos;

    /// <summary>Kaitai's <c>_io.pos</c>: the position in the current (sub)stream.</summary>
    public readonly int IoPos => _pos - _ioStart;

    /// <summary>Kaitai's <c>_io.size</c>: the octets of the current (sub)stream, all of them.</summary>
    public readonly int IoSize => _limit - _ioStart;

    /// <summary>Absolute offset of the first octet of the current (sub)stream.</summary>
    public readonly long IoOffset => _base + _ioStart;

    /// <summary>The octets of the current (sub)stream that are at hand (all of them, outside a streaming reader).</summary>
    public readonly ReadOnlySpan<byte> IoSpan
    {
        get
        {
            int end = Math.Min(_limit, _buf.Length), start = Math.Min(_ioStart, end);
            return _buf.Slice(start, end - start);
        }
    }

    /// <summary>The octets of the current (sub)stream as memory (a copy when the reader has none).</summary>
    public readonly ReadOnlyMemory<byte> IoMemory
    {
        get
        {
            int end = Math.Min(_limit, _buf.Length), start = Math.Min(_ioStart, end);
            return _hasMemory ? _memory.Slice(start, end - start) : _buf.Slice(start, end - start).ToArray();
        }
    }

    /// <summary>Kaitai's <c>_root._io</c>: every octet the reader was given, or the stream of the root being read (another grammar's root read inside this one).</summary>
    public readonly ReadOnlySpan<byte> RootSpan => !_rootWindow ? _buf : _buf.Slice(_rootStart, Math.Min(_rootEnd, _buf.Length) - _rootStart);

    /// <summary>Kaitai's <c>_root._io</c> as memory (a copy when the reader has none).</summary>
    public readonly ReadOnlyMemory<byte> RootMemory
        => !_rootWindow ? (_hasMemory ? _memory : _buf.ToArray())
            : _hasMemory ? _memory.Slice(_rootStart, Math.Min(_rootEnd, _buf.Length) - _rootStart) : RootSpan.ToArray();

    /// <summary>Absolute offset of the first octet of <see cref="RootSpan"/>.</summary>
    public readonly long RootOffset => _base + _rootStart;

    /// <summary>
    /// A root type starts reading: its stream (the current one) is <c>_root._io</c> until it
    /// returns (<see cref="LeaveRoot"/>). Another grammar's root read inside this one is its own root, as in Kaitai.
    /// For generated code only.
    /// </summary>
    public RootMark EnterRoot()
    {
        var saved = new RootMark(_rootStart, _rootEnd, _rootWindow);
        if (_ioStart != 0 || _limitIsSubstream)
        {
            _rootStart = _ioStart;
            _rootEnd = _limit;
            _rootWindow = true;
        }
        return saved;
    }

    /// <summary>Restores <c>_root._io</c> as it was before <see cref="EnterRoot"/>. For generated code only.</summary>
    public void LeaveRoot(RootMark saved)
    {
        _rootStart = saved.Start;
        _rootEnd = saved.End;
        _rootWindow = saved.Window;
    }

    /// <summary>What <see cref="EnterRoot"/> replaced. For generated code only.</summary>
    public readonly record struct RootMark(int Start, int End, bool Window);

    /// <summary>True at the end of the current substream (Kaitai's <c>_io.eos</c>).</summary>
    public readonly bool IsEof => _pos >= _limit;

    /// <summary>True inside a sized substream, whose end is known.</summary>
    public readonly bool InSubstream => _limitIsSubstream;

    /// <summary>The octets from <paramref name="start"/> to the current position, as memory when possible.</summary>
    public readonly ReadOnlyMemory<byte> SliceFrom(int start)
        => _hasMemory ? _memory.Slice(start, _pos - start) : _buf.Slice(start, _pos - start).ToArray();

    /// <summary>The octets from <paramref name="start"/> to the current position.</summary>
    public readonly ReadOnlySpan<byte> SpanFrom(int start) => _buf.Slice(start, _pos - start);

    /// <summary>
    /// Checks that <paramref name="n"/> more octets exist before a repeat is
    /// allocated, so a corrupt count cannot exhaust memory.
    /// </summary>
    public bool Ensure(long n, string field)
    {
        // Zero octets are always there, even after a skip-ahead past the octets at hand.
        if (n <= _readLimit - _pos || n == 0) return true;
        Short(n, field);
        return false;
    }

    /// <summary>Whether model slices (<see cref="ReadMemory"/>) can be taken.</summary>
    public readonly bool CanSlice => _hasMemory;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Take(int n, string field, out int at)
    {
        _bitsLeft = 0; // a read of whole octets starts at the next octet (Kaitai's alignToByte)
        at = _pos;
        // Signed on purpose: after a skip-ahead the position may lie past _readLimit.
        if (n <= _readLimit - _pos || n == 0)
        {
            _pos += n;
            return true;
        }
        Short(n, field);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Short(long n, string field)
    {
        // Past the end of a sized field: the input is wrong, whatever more may come.
        if (_limitIsSubstream && _pos + n > _limit)
            throw FgException.Truncated(field, _base + _pos, n, _limit - _pos, inSubstream: true);
        // Past the element limit a whole reader runs short too: the caller refuses the element on its
        // limit, at its start, as it does when more input may follow (the same error from memory as from a pipe).
        if (_soft || _pos + n > ElementLimit)
        {
            if (!IsShort)
            {
                IsShort = true;
                Needed = _pos + n;
            }
            _pos = Math.Max(_pos, _readLimit);
            return;
        }
        throw FgException.Truncated(field, _base + _pos, n, _readLimit - _pos, inSubstream: false);
    }

    public byte U1(string field) => Take(1, field, out int at) ? _buf[at] : (byte)0;

    public float F4(string field) => BitConverter.Int32BitsToSingle((int)U4(field));
    public double F8(string field) => BitConverter.Int64BitsToDouble((long)U8(field));
    public float F4(string field, bool littleEndian) => BitConverter.Int32BitsToSingle((int)U4(field, littleEndian));
    public double F8(string field, bool littleEndian) => BitConverter.Int64BitsToDouble((long)U8(field, littleEndian));

    private static ulong Mask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>
    /// Reads an integer of <paramref name="n"/> bits (1 to 64), Kaitai's bX: big-endian
    /// bits come from the high end of each octet, little-endian ones from the low end.
    /// Bit fields that follow each other share octets.
    /// </summary>
    public ulong Bits(int n, bool littleEndian, string field)
    {
        int needed = n - _bitsLeft;
        if (needed <= 0)
        {
            ulong v;
            if (littleEndian) { v = _bits & Mask(n); _bits = n >= 64 ? 0 : _bits >> n; }
            else { v = _bits >> (_bitsLeft - n); _bits &= Mask(_bitsLeft - n); }
            _bitsLeft -= n;
            return v;
        }
        int octets = (needed + 7) / 8;
        if (!(octets <= _readLimit - _pos))
        {
            Short(octets, field);
            return 0;
        }
        ulong fresh = 0;
        for (int i = 0; i < octets; i++)
            fresh = littleEndian ? fresh | ((ulong)_buf[_pos + i] << (8 * i)) : (fresh << 8) | _buf[_pos + i];
        _pos += octets;
        int freshBits = octets * 8;
        int rest = freshBits - needed;
        ulong result;
        if (littleEndian)
        {
            result = (_bits | (_bitsLeft >= 64 ? 0 : fresh << _bitsLeft)) & Mask(n);
            _bits = needed >= 64 ? 0 : fresh >> needed;
        }
        else
        {
            result = ((needed >= 64 ? 0 : _bits << needed) | (fresh >> rest)) & Mask(n);
            _bits = fresh & Mask(rest);
        }
        _bitsLeft = rest;
        return result;
    }

    /// <summary>Drops the bits left of a partly read octet: the next read starts at the next octet (Kaitai's alignToByte).</summary>
    public void AlignToByte() => _bitsLeft = 0;

    /// <summary>
    /// The most levels a type that contains itself (a tree, a linked list) may
    /// nest: its input decides how deep, so the reader stops it before the stack does.
    /// </summary>
    public const int MaxNesting = 512;

    // Levels entered and not left on this thread, by every reader: a parse instance that a
    // field's size or condition reads while the type is read starts a reader of its own, and an
    // instance of the type itself would otherwise start counting again at each level.
    [ThreadStatic] private static int t_nesting;

    /// <summary>
    /// Enters one level of a type that contains itself; fails (rule
    /// <c>too-deep</c>) past <see cref="MaxNesting"/> levels on this thread, or when the
    /// thread's stack is nearly used up. For generated code only.
    /// </summary>
    public void Nest(string type)
    {
        if (t_nesting >= MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw FgException.Invalid("too-deep", type, Offset,
                "'" + type + "' nests deeper than " + MaxNesting.ToString(System.Globalization.CultureInfo.InvariantCulture) + " levels (or than this thread's stack allows)");
        t_nesting++;
    }

    /// <summary>Leaves a level entered by <see cref="Nest"/>. For generated code only.</summary>
    public void Unnest() => t_nesting--;

    /// <summary>
    /// The most elements that take no octets one read may hold, over all its repeats: nothing in the
    /// input bounds them (a count of 2^24 such elements, each holding as many, fits in 8 octets).
    /// </summary>
    public const int MaxEmptyElements = 1 << 20;

    /// <summary>
    /// An element of a repeat took no octets; fails (rule <c>bad-count</c>) past
    /// <see cref="MaxEmptyElements"/> in this read. For generated code only.
    /// </summary>
    public void EmptyElement(string field)
    {
        if (++_empty > MaxEmptyElements)
            throw FgException.Invalid("bad-count", field, Offset,
                "more than " + MaxEmptyElements.ToString(System.Globalization.CultureInfo.InvariantCulture) + " elements that take no octets in one read");
    }

    public sbyte S1(string field) => (sbyte)U1(field);

    /// <summary>Two octets at <paramref name="offset"/> of <paramref name="data"/>, which holds them. For generated peekers.</summary>
    public static ushort U2At(ReadOnlySpan<byte> data, int offset, bool littleEndian)
        => littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(offset)) : BinaryPrimitives.ReadUInt16BigEndian(data.Slice(offset));

    /// <summary>Four octets at <paramref name="offset"/> of <paramref name="data"/>, which holds them. For generated peekers.</summary>
    public static uint U4At(ReadOnlySpan<byte> data, int offset, bool littleEndian)
        => littleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset)) : BinaryPrimitives.ReadUInt32BigEndian(data.Slice(offset));

    /// <summary>
    /// The error of a generated peeker given <paramref name="length"/> octets where its field of
    /// <paramref name="size"/> octets at <paramref name="offset"/> needs more: what a reader that
    /// skipped to the field and read it reports. Kept out of the peekers, whose fast path stays small.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FgException PeekShort(int length, int offset, int size, string field)
        => length < offset ? FgException.Truncated(field, 0, offset, length, inSubstream: false)
            : FgException.Truncated(field, offset, size, length - offset, inSubstream: false);

    /// <summary>Eight octets at <paramref name="offset"/> of <paramref name="data"/>, which holds them. For generated peekers.</summary>
    public static ulong U8At(ReadOnlySpan<byte> data, int offset, bool littleEndian)
        => littleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(offset)) : BinaryPrimitives.ReadUInt64BigEndian(data.Slice(offset));

    public ushort U2(string field)
    {
        if (!Take(2, field, out int at)) return 0;
        var s = _buf.Slice(at, 2);
        return LittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);
    }

    public uint U4(string field)
    {
        if (!Take(4, field, out int at)) return 0;
        var s = _buf.Slice(at, 4);
        return LittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
    }

    public ulong U8(string field)
    {
        if (!Take(8, field, out int at)) return 0;
        var s = _buf.Slice(at, 8);
        return LittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt64BigEndian(s);
    }

    /// <summary>Reads with a byte order fixed by the grammar (u2le, u4be, ...), whatever <see cref="LittleEndian"/> says.</summary>
    public ushort U2(string field, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; var v = U2(field); LittleEndian = s; return v; }
    public uint U4(string field, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; var v = U4(field); LittleEndian = s; return v; }
    public ulong U8(string field, bool littleEndian) { bool s = LittleEndian; LittleEndian = littleEndian; var v = U8(field); LittleEndian = s; return v; }
    public short S2(string field, bool littleEndian) => (short)U2(field, littleEndian);
    public int S4(string field, bool littleEndian) => (int)U4(field, littleEndian);
    public long S8(string field, bool littleEndian) => (long)U8(field, littleEndian);
    public byte U1(string field, bool littleEndian) => U1(field);
    public sbyte S1(string field, bool littleEndian) => S1(field);

    public short S2(string field) => (short)U2(field);
    public int S4(string field) => (int)U4(field);
    public long S8(string field) => (long)U8(field);

    /// <summary>Reads <paramref name="n"/> octets as a span of the input (no copy).</summary>
    public ReadOnlySpan<byte> ReadSpan(long n, string field)
    {
        if (n < 0 || n > int.MaxValue) throw FgException.BadSize(field, Offset, n);
        return Take((int)n, field, out int at) ? _buf.Slice(at, (int)n) : default;
    }

    /// <summary>Reads <paramref name="n"/> octets as a slice of the input memory (no copy).</summary>
    public ReadOnlyMemory<byte> ReadMemory(long n, string field)
    {
        if (n < 0 || n > int.MaxValue) throw FgException.BadSize(field, Offset, n);
        if (!Take((int)n, field, out int at)) return default;
        return _hasMemory ? _memory.Slice(at, (int)n) : _buf.Slice(at, (int)n).ToArray();
    }

    /// <summary>
    /// Reads up to a terminator octet (Kaitai's terminator, include, consume,
    /// eos-error). Returns the length of the value, which starts at the position
    /// of the call; the position moves past the terminator when it is consumed.
    /// Without a terminator before the end of the stream, the value is the rest
    /// of it, or, with <paramref name="eosError"/>, a structural error.
    /// </summary>
    public int Terminated(byte terminator, bool include, bool consume, bool eosError, string field)
    {
        var at = _buf.Slice(_pos, Math.Max(0, _readLimit - _pos));
        int i = at.IndexOf(terminator);
        if (i < 0)
        {
            // The stream goes on beyond the octets at hand: ask for more and read again.
            bool wholeStreamHere = _limitIsSubstream ? _limit <= _buf.Length : !_soft;
            if (!wholeStreamHere)
            {
                Short(at.Length + 1, field);
                return 0;
            }
            if (eosError)
                throw FgException.Invalid("terminator", field, Offset,
                    "no terminator 0x" + terminator.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + " before the end of its stream");
            _pos += at.Length;
            return at.Length;
        }
        _pos += consume ? i + 1 : i;
        return include ? i + 1 : i;
    }

    /// <summary>The octets at <paramref name="start"/>, <paramref name="length"/> long, as memory when possible.</summary>
    public readonly ReadOnlyMemory<byte> SliceAt(int start, int length)
        => _hasMemory ? _memory.Slice(start, length) : _buf.Slice(start, length).ToArray();

    /// <summary>The octets at <paramref name="start"/>, <paramref name="length"/> long.</summary>
    public readonly ReadOnlySpan<byte> SpanAt(int start, int length) => _buf.Slice(start, length);

    /// <summary>
    /// Moves to <paramref name="pos"/> octets from the start (a parse instance's
    /// <c>pos</c>): an error (rule <c>bad-pos</c>) when that lies outside the octets at hand.
    /// </summary>
    public void Seek(long pos, string field)
    {
        if (pos < 0 || pos > _limit - _pos)
            throw FgException.Invalid("bad-pos", field, Offset, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"position {pos} lies outside its stream of {_limit - _pos} octet(s)"));
        Skip(pos, field);
    }

    /// <summary>Skips <paramref name="n"/> octets (with skip-ahead, possibly past the octets at hand).</summary>
    public void Skip(long n, string field)
    {
        if (n < 0 || n > int.MaxValue) throw FgException.BadSize(field, Offset, n);
        if (_skipAhead && _limitIsSubstream && n <= _limit - _pos && !IsShort)
        {
            _pos += (int)n;
            return;
        }
        Take((int)n, field, out _);
    }

    /// <summary>
    /// Narrows the reader to the next <paramref name="size"/> octets (a Kaitai
    /// substream). Returns the previous limit for <see cref="PopLimit"/>.
    /// </summary>
    public SubstreamMark PushLimit(long size, string field)
    {
        if (size < 0 || size > int.MaxValue) throw FgException.BadSize(field, Offset, size);
        var mark = new SubstreamMark(_limit, _limitIsSubstream, _ioStart);
        // At the top of a streamed element the end of the input is unknown: with skip-ahead a
        // sized field may extend past the octets at hand.
        bool virtualEnd = _skipAhead && !_limitIsSubstream && _pos + size > _limit;
        if (size > _limit - _pos && !virtualEnd)
        {
            Short(size, field);
            // Soft short read: parse the rest against an empty substream; the caller retries.
            _limitIsSubstream = false;
            return mark;
        }
        if (_pos + size > int.MaxValue) throw FgException.BadSize(field, Offset, size);
        _limit = _pos + (int)size;
        _readLimit = Math.Min(_limit, _buf.Length);
        _limitIsSubstream = true;
        _ioStart = _pos;
        return mark;
    }

    /// <summary>Leaves a substream: moves to its end and restores the outer limit.</summary>
    public void PopLimit(SubstreamMark mark)
    {
        _pos = _limit;
        _limit = Math.Max(mark.Limit, mark.IsSubstream ? mark.Limit : _pos);
        _readLimit = Math.Min(_limit, _buf.Length);
        _limitIsSubstream = mark.IsSubstream;
        _ioStart = mark.IoStart;
    }

    public readonly struct SubstreamMark
    {
        internal SubstreamMark(int limit, bool isSubstream, int ioStart) { Limit = limit; IsSubstream = isSubstream; IoStart = ioStart; }
        internal int Limit { get; }
        internal bool IsSubstream { get; }
        internal int IoStart { get; }
    }
}
