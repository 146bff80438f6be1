using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace FormatGen.Runtime;

/// <summary>Reads one structure from the octets at hand (see <see cref="FgSource.Read{T}"/>).</summary>
public delegate T FgReadFunc<out T>(ref FgReader reader);

/// <summary>
/// The octets of one input, shared by the readers that take turns on it: a
/// stream whose elements carry another stream inline (a container and what
/// it wraps, two protocol layers on one wire). It holds the buffer or the
/// mapping and the position; each reader consumes exactly the octets of what
/// it returns and never reads ahead of it, so after any element another
/// reader can continue from the same octet.
/// </summary>
/// <remarks>
/// <para>How the octets are reached depends on the input, and none of them
/// copies what it does not have to:</para>
/// <list type="bullet">
/// <item>memory (<see cref="ReadOnlyMemory{T}"/>, a <c>byte[]</c>, a
/// <see cref="MemoryStream"/>'s own buffer): read in place;</item>
/// <item>regular files: mapped in windows of a few MiB that follow the
/// position, so resident memory stays flat whatever the file's size; octets
/// a check skips are never touched;</item>
/// <item>other streams (pipes, sockets, any <see cref="Stream"/>): read
/// through a buffer holding one element plus a read-ahead chunk; octets a
/// check skips are passed over with a seek where the stream can seek;</item>
/// <item>a <see cref="PipeReader"/>: its segments are read in place; only an
/// element that straddles segments is joined into a buffer.</item>
/// </list>
/// <para>Spans and memory from the source stay valid until the next read from
/// it by any reader (a mapped file: until the read after that).</para>
/// </remarks>
public sealed class FgSource : IDisposable
{
    private const int DefaultRead = 256 << 10;
    private const int PooledSize = 1 << 20;
    /// <summary>
    /// Octets mapped at a time from a regular file: a window holds at least four elements of the
    /// last element's length, up to four times this; an element larger than that gets a window of its size.
    /// </summary>
    internal const int WindowSize = 8 << 20;

    private enum Mode : byte { Buffered, Mapped, Memory, Pipe }

    private readonly Mode _mode;
    private readonly Stream? _input;
    private readonly bool _leaveOpen;
    private readonly int _minRead;
    private long _position;

    // Buffered: [_start, _end) of _buffer are the octets from _position on.
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private byte[]? _scratch;

    // Memory: all of the input; a MemoryStream's position follows ours.
    private readonly ReadOnlyMemory<byte> _data;
    private readonly byte[]? _dataArray;  // the array under _data, when it is one (spans are made from it directly)
    private readonly int _dataOffset;
    private readonly MemoryStream? _memoryStream;
    private readonly long _memoryStreamStart;
    private readonly int _memoryStreamOrigin;   // -1: its position is set through the property

    // Mapped: a window that follows the position, and the windows before it whose spans may still be in use.
    private MemoryMappedFile? _map;
    private long _fileLength;
    private Window? _window;
    private readonly System.Collections.Generic.List<Window> _retired = new(); // earlier windows, kept two reads
    private long _reads;  // reads completed (Consume, Skip, CopyTo): a retired window is released two reads on

    // The last element's length, which sizes the next window.
    private int _lastLength;

    // Memory, or the current window: where Available finds its octets first.
    private ReadOnlyMemory<byte> _block;
    private long _blockStart;

    // Pipe: the pipe's unexamined octets from _seqStart on; an element across segments is joined in _joined.
    private readonly PipeReader? _pipe;
    private ReadOnlySequence<byte> _seq;
    private long _seqStart;
    private bool _pipeDone;
    private bool _pipeHeld;   // a read's buffer not yet given back with AdvanceTo
    private byte[]? _joined;
    private long _joinedStart = -1;
    private int _joinedLength;

    /// <param name="input">The input; read from its current position.</param>
    /// <param name="mapFiles">Map a regular file (read from its start) instead of copying it through a buffer.</param>
    /// <param name="leaveOpen">Leave <paramref name="input"/> open when the source is disposed.</param>
    /// <param name="readSize">
    /// Octets asked for by each read of a buffered source (default 256 KiB). A
    /// reader that moves bulk data with <see cref="CopyTo"/> reads less ahead,
    /// so that little of what it copies passes through the buffer.
    /// </param>
    public FgSource(Stream input, bool mapFiles = true, bool leaveOpen = true, int readSize = DefaultRead)
    {
        _input = input ?? throw new ArgumentNullException(nameof(input));
        _leaveOpen = leaveOpen;
        _minRead = readSize is >= 4096 and <= PooledSize ? readSize : throw new ArgumentOutOfRangeException(nameof(readSize), "4 KiB to 1 MiB");
        if (mapFiles && input is FileStream fs && fs.CanSeek && TryMap(fs))
        {
            _mode = Mode.Mapped;
            return;
        }
        if (input is MemoryStream ms && MemoryStreamOctets(ms) is { } octets)
        {
            _mode = Mode.Memory;
            _data = octets;
            (_dataArray, _dataOffset) = ArrayOf(octets);
            _block = octets;
            _memoryStream = ms;
            _memoryStreamStart = ms.Position;
            _memoryStreamOrigin = -1;
            if (ms.GetType() == typeof(MemoryStream))
            {
                try
                {
                    // The field holds what the property was set to, plus the origin: checked once, here.
                    int origin = MemoryStreamOrigin(ms);
                    if (MemoryStreamPositionField(ms) == origin + _memoryStreamStart) _memoryStreamOrigin = origin;
                }
                catch (MissingFieldException) { }
            }
            return;
        }
        _mode = Mode.Buffered;
        _buffer = ArrayPool<byte>.Shared.Rent(PooledSize);
        FormatGen.Runtime.Internal.FgPipe.Enlarge(input);
    }

    /// <summary>A source over octets in memory, read in place (a <c>byte[]</c> converts to this).</summary>
    public FgSource(ReadOnlyMemory<byte> data)
    {
        _mode = Mode.Memory;
        _data = data;
        (_dataArray, _dataOffset) = ArrayOf(data);
        _block = data;
        _leaveOpen = true;
        _minRead = DefaultRead;
    }

    /// <summary>
    /// A source over a <see cref="PipeReader"/> (a socket, a pipe of System.IO.Pipelines).
    /// What the source has consumed is advanced past when it reads more or is disposed.
    /// </summary>
    /// <param name="input">The pipe; read from what it has not yet been advanced past.</param>
    /// <param name="leaveOpen">Leave the reader uncompleted when the source is disposed.</param>
    public FgSource(PipeReader input, bool leaveOpen = true)
    {
        _mode = Mode.Pipe;
        _pipe = input ?? throw new ArgumentNullException(nameof(input));
        _leaveOpen = leaveOpen;
        _minRead = DefaultRead;
    }

    private static (byte[]?, int) ArrayOf(ReadOnlyMemory<byte> data)
        => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment) ? (segment.Array, segment.Offset) : (null, 0);

    /// <summary>Absolute offset of the next unconsumed octet.</summary>
    public long Position => _position;

    /// <summary>Whether the input is memory-mapped.</summary>
    public bool IsMapped => _mode == Mode.Mapped;

    /// <summary>Whether the input is read in place from memory (a memory block or a MemoryStream's buffer).</summary>
    public bool IsInMemory => _mode == Mode.Memory;

    // A MemoryStream's octets from its position, without copying: its own buffer where the stream
    // exposes it, and where it does not (made over a caller's byte[]) that array, through the stream's
    // fields; a type derived from MemoryStream may keep its octets elsewhere, so only MemoryStream itself.
    private static ReadOnlyMemory<byte>? MemoryStreamOctets(MemoryStream ms)
    {
        if (!ms.CanRead || !ms.CanSeek) return null;
        long at = ms.Position, length = ms.Length;
        if (at > length) return ReadOnlyMemory<byte>.Empty;
        if (ms.TryGetBuffer(out var segment)) return segment.AsMemory((int)at, (int)(length - at));
        if (ms.GetType() != typeof(MemoryStream)) return null;
        try
        {
            var buffer = MemoryStreamBuffer(ms);
            int origin = MemoryStreamOrigin(ms);
            if (buffer is null || origin + length > buffer.Length) return null;
            return buffer.AsMemory(origin + (int)at, (int)(length - at));
        }
        catch (MissingFieldException) { return null; }
    }

    // The MemoryStream read in place follows the position. This runs for every record: MemoryStream
    // itself has its field set (what its property setter does after its checks, about a tenth of the
    // time per one-page record), a type derived from it the property, which it may override.
    private void SyncMemoryStream()
    {
        long at = _memoryStreamStart + _position;
        if (_memoryStreamOrigin >= 0 && at <= int.MaxValue - _memoryStreamOrigin) MemoryStreamPositionField(_memoryStream!) = _memoryStreamOrigin + (int)at;
        else _memoryStream!.Position = at;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_position")]
    private static extern ref int MemoryStreamPositionField(MemoryStream stream);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_buffer")]
    private static extern ref byte[] MemoryStreamBuffer(MemoryStream stream);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_origin")]
    private static extern ref int MemoryStreamOrigin(MemoryStream stream);

    private bool TryMap(FileStream fs)
    {
        long length;
        try { length = fs.Length - fs.Position; } catch (IOException) { return false; }
        if (length <= 0 || fs.Position != 0) return false;
        try
        {
            _map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _fileLength = length;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _map?.Dispose();
            _map = null;
            return false;
        }
    }

    /// <summary>The unconsumed octets at hand (more may follow: see <see cref="IsComplete"/>).</summary>
    public ReadOnlyMemory<byte> Available()
    {
        // Memory and the current window: one comparison (this runs for every element).
        long inBlock = _position - _blockStart;
        if ((ulong)inBlock < (ulong)_block.Length) return _block.Slice((int)inBlock);
        return AvailableElsewhere();
    }

    // The octets the block does not hold: a buffer, a pipe's segments, another window, or none.
    private ReadOnlyMemory<byte> AvailableElsewhere()
    {
        switch (_mode)
        {
            case Mode.Buffered:
                return new ReadOnlyMemory<byte>(_buffer, _start, _end - _start);
            case Mode.Memory:
                return default; // the block is all of it: the position is at its end
            case Mode.Mapped:
                var w = _window;
                if (w is null || _position < w.Start || _position >= w.End)
                {
                    if (_position >= _fileLength) return default;
                    w = MoveWindow(_position, WindowSize);
                }
                return w.Octets.Slice((int)(_position - w.Start));
            default:
                if (_joinedStart >= 0 && _position >= _joinedStart && _position < _joinedStart + _joinedLength)
                    return new ReadOnlyMemory<byte>(_joined, (int)(_position - _joinedStart), (int)(_joinedStart + _joinedLength - _position));
                var rest = _seq.Slice(_position - _seqStart);
                return rest.First;
        }
    }

    /// <summary>Whether <see cref="Available"/> reaches the end of the input.</summary>
    public bool IsComplete
    {
        get
        {
            switch (_mode)
            {
                case Mode.Buffered: return _eof;
                case Mode.Memory: return true;
                case Mode.Mapped:
                    var at = Available();
                    return _position + at.Length >= _fileLength;
                default:
                    return _pipeDone && _position + Available().Length >= _seqStart + _seq.Length;
            }
        }
    }

    /// <summary>Whether any octet is left.</summary>
    public bool AtEnd
    {
        get
        {
            switch (_mode)
            {
                case Mode.Memory: return _position >= _data.Length;
                case Mode.Mapped: return _position >= _fileLength;
                case Mode.Buffered:
                    if (_end > _start) return false;
                    Fill(1, PooledSize);
                    return _end <= _start;
                default:
                    if (_position < _seqStart + _seq.Length) return false;
                    Fill(1, PooledSize);
                    return _position >= _seqStart + _seq.Length;
            }
        }
    }

    /// <summary><see cref="AtEnd"/> for async callers: waits for the input without blocking a thread.</summary>
    public async ValueTask<bool> AtEndAsync(CancellationToken cancellationToken = default)
    {
        switch (_mode)
        {
            case Mode.Buffered:
                if (_end > _start) return false;
                await FillAsync(1, PooledSize, cancellationToken).ConfigureAwait(false);
                return _end <= _start;
            case Mode.Pipe:
                if (_position < _seqStart + _seq.Length) return false;
                await FillAsync(1, PooledSize, cancellationToken).ConfigureAwait(false);
                return _position >= _seqStart + _seq.Length;
            default:
                return AtEnd;
        }
    }

    /// <summary>
    /// Whether octets follow the position, when that can be told without
    /// waiting for a writer: true or false, or null for a pipe or socket with
    /// nothing buffered (only a read, which may wait, could tell).
    /// </summary>
    public bool? MoreWithoutWaiting()
    {
        switch (_mode)
        {
            case Mode.Memory: return _position < _data.Length;
            case Mode.Mapped: return _position < _fileLength;
            case Mode.Pipe:
                if (_position < _seqStart + _seq.Length) return true;
                return _pipeDone ? false : null;
        }
        if (_end > _start) return true;
        if (_eof) return false;
        if (!_input!.CanSeek) return null;
        try { return _input.Position < _input.Length; }
        catch (Exception e) when (e is IOException or NotSupportedException) { return null; }
    }

    /// <summary>
    /// The next <paramref name="count"/> octets without consuming them, or
    /// fewer when the input ends first.
    /// </summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        var at = Available();
        if (at.Length < count && !IsComplete)
        {
            Fill(count, Math.Max(count, PooledSize));
            at = Available();
        }
        return at.Span.Slice(0, Math.Min(count, at.Length));
    }

    /// <summary>
    /// Reads one structure at the position with <paramref name="read"/>, over
    /// more octets each time it runs short, and consumes what it read. The
    /// reader is soft and stops at fields marked <c>-fg-handoff</c>.
    /// <paramref name="maxLength"/> bounds the structure, and what is buffered for it.
    /// </summary>
    public T Read<T>(FgReadFunc<T> read, bool littleEndian, long maxLength, out bool handedOff)
    {
        var result = Parse(read, littleEndian, maxLength, skipAhead: false, out int length, out handedOff);
        Consume(length);
        return result;
    }

    /// <summary>
    /// <see cref="Read"/> without consuming: the structure's <paramref name="length"/>
    /// is the caller's to <see cref="Consume"/>. With <paramref name="skipAhead"/>,
    /// reading through a buffer (a pipe, a stream) may skip octets no rule reads
    /// (opaque blobs, page data) without buffering them; <see cref="Consume"/> then
    /// passes over them in the input, with a seek where it can. (A mapped file
    /// maps each element whole: octets a check does not read are never touched.)
    /// </summary>
    public T Parse<T>(FgReadFunc<T> read, bool littleEndian, long maxLength, bool skipAhead, out int length, out bool handedOff)
    {
        while (true)
        {
            if (TryParse(read, littleEndian, maxLength, skipAhead, out var result, out length, out handedOff, out long want)) return result;
            Fill(want, maxLength);
        }
    }

    /// <summary>
    /// <see cref="Parse"/> for async callers: waits for more octets without
    /// blocking a thread. Never skips ahead: the element is held whole.
    /// </summary>
    public async ValueTask<(T Result, int Length, bool HandedOff)> ParseAsync<T>(FgReadFunc<T> read, bool littleEndian, long maxLength, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryParse(read, littleEndian, maxLength, skipAhead: false, out var result, out int length, out bool handedOff, out long want))
                return (result, length, handedOff);
            await FillAsync(want, maxLength, cancellationToken).ConfigureAwait(false);
        }
    }

    // One attempt over the octets at hand: true with the result, or false with how many octets to make available.
    private bool TryParse<T>(FgReadFunc<T> read, bool littleEndian, long maxLength, bool skipAhead, out T result, out int length, out bool handedOff, out long want)
    {
        var reader = ReaderAt(littleEndian, skipAhead);
        reader.ElementLimit = maxLength;
        result = read(ref reader);
        return Parsed(ref reader, maxLength, out length, out handedOff, out want);
    }

    /// <summary>
    /// A reader over the octets at hand, for one attempt at an element (see <see cref="Parsed"/>):
    /// soft unless they reach the end of the input, stopping at fields marked <c>-fg-handoff</c>.
    /// </summary>
    internal FgReader ReaderAt(bool littleEndian, bool skipAhead)
    {
        // Memory and the current window: the span made straight from the array or the mapping.
        long inBlock = _position - _blockStart;
        if ((ulong)inBlock < (ulong)_block.Length)
        {
            int length = _block.Length - (int)inBlock;
            var octets = _block.Slice((int)inBlock);
            LastAttempt = octets;
            var span = _dataArray is not null ? new ReadOnlySpan<byte>(_dataArray, _dataOffset + (int)inBlock, length)
                : _window is { } w && w.Start == _blockStart ? w.Slice(_position, length)
                : octets.Span;
            bool whole = _mode == Mode.Memory || _position + length >= _fileLength;
            return new FgReader(octets, span, littleEndian, _position, soft: !whole) { StopAtHandoff = true };
        }
        var memory = Available();
        LastAttempt = memory;
        bool complete = IsComplete;
        return new FgReader(memory, littleEndian, _position, soft: !complete,
            skipAhead && !complete && _mode == Mode.Buffered) { StopAtHandoff = true };
    }

    /// <summary>
    /// For memory (<see cref="IsInMemory"/>): a reader over every octet from the position to the
    /// end, which is the input's end, so never soft (an element cut short is an error at once).
    /// Pass what it read to <see cref="Advance"/>.
    /// </summary>
    internal FgReader MemoryReader(bool littleEndian)
    {
        int at = (int)_position;
        return new FgReader(_block.Slice(at), MemorySpan(_position, _block.Length - at), littleEndian, _position, soft: false) { StopAtHandoff = true };
    }

    /// <summary>For memory (<see cref="IsInMemory"/>): the octets at <paramref name="start"/>, which the caller knows are there.</summary>
    internal ReadOnlySpan<byte> MemorySpan(long start, int length)
        => _dataArray is not null ? new ReadOnlySpan<byte>(_dataArray, _dataOffset + (int)start, length) : _block.Span.Slice((int)start, length);

    /// <summary>For memory (<see cref="IsInMemory"/>): consumes the <paramref name="n"/> octets a reader from <see cref="MemoryReader"/> read.</summary>
    internal void Advance(int n)
    {
        _reads++;
        _position += n;
        if (_memoryStream is not null) SyncMemoryStream();
    }

    /// <summary>
    /// After an attempt with a reader from <see cref="ReaderAt"/>: true with the element's
    /// length, or false with how many octets to make available (<see cref="Fill"/>) before the next.
    /// </summary>
    internal bool Parsed(ref FgReader reader, long maxLength, out int length, out bool handedOff, out long want)
    {
        if (!reader.IsShort)
        {
            if (reader.Position > maxLength) throw TooLong(reader.Position, maxLength, _position);
            length = reader.Position;
            handedOff = reader.HandedOff;
            want = 0;
            return true;
        }
        if (reader.Needed > maxLength) throw TooLong(reader.Needed, maxLength, _position);
        // A short read always asks for more than there is; anything else would loop forever.
        int had = reader.Length;
        if (reader.Needed <= had) throw new InvalidOperationException("A short read asked for octets that are already there.");
        // Each short parse starts again from the element's start: from a buffered file (where reads never
        // wait) take at least twice what is at hand, so a large element is parsed a few times, not once per read.
        want = _mode == Mode.Buffered && _input!.CanSeek ? Math.Max(reader.Needed, Math.Min(2L * had, maxLength)) : reader.Needed;
        length = 0;
        handedOff = false;
        return false;
    }

    internal static FgException TooLong(long length, long max, long at) => FgException.Invalid("record-length-limit", "(record)", at,
        string.Create(CultureInfo.InvariantCulture, $"record of {length} octets exceeds the limit of {max} octets"));

    /// <summary>
    /// The octets at hand for the last attempt at an element (see <see cref="ReaderAt"/>): from the
    /// element's first octet, all of it once read, unless a check skipped octets ahead of them.
    /// </summary>
    internal ReadOnlyMemory<byte> LastAttempt { get; private set; }

    /// <summary>
    /// An element of <paramref name="length"/> octets has been read. Asks the processor to fetch the
    /// start of the element after the next, taking it to be as long
    /// as the last (<paramref name="length"/>): in memory and mapped files, an element's first octets
    /// are often in a page not yet in the cache, and fetching them ahead overlaps that wait with the
    /// reading of the element before. Never faults, and costs nothing where it guesses wrong.
    /// </summary>
    internal unsafe void ElementRead(int length)
    {
        _lastLength = length; // sizes the next window
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || length <= 0) return;
        long inBlock = _position + length - _blockStart;
        if ((ulong)inBlock >= (ulong)_block.Length) return;
        // A hint, not a read: an address the collector then moves is only a wasted fetch.
        if (_dataArray is not null)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_dataArray), (nint)(_dataOffset + inBlock))));
        else if (_window is { } w && _blockStart == w.Start)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(w.At(inBlock));
    }

    /// <summary>
    /// Consumes <paramref name="n"/> octets. Those past the octets at hand (skipped by a
    /// check) are passed over in the input: a seek where it can, else read and dropped.
    /// </summary>
    public void Consume(int n)
    {
        _reads++;
        switch (_mode)
        {
            case Mode.Buffered:
                int inBuffer = Math.Min(n, _end - _start);
                _start += inBuffer;
                if (n > inBuffer) Discard(n - inBuffer, _position + inBuffer, null);
                break;
            case Mode.Mapped:
                if (n > _fileLength - _position) throw InsideRecord(n - (_fileLength - _position), _fileLength, truncate: true);
                break;
            case Mode.Memory:
                if (n > _data.Length - _position) throw InsideRecord(n - (_data.Length - _position), _data.Length, truncate: false);
                break;
            default:
                long have = _seqStart + _seq.Length - _position;
                if (n > have)
                {
                    _position += have;
                    SkipPipe(n - have, "(record)");
                    return;
                }
                break;
        }
        _position += n;
        if (_memoryStream is not null) SyncMemoryStream();
    }

    private FgException InsideRecord(long missing, long end, bool truncate)
    {
        if (truncate) _position = end;
        return FgException.Invalid("truncated", "(record)", end,
            string.Create(CultureInfo.InvariantCulture, $"input ends inside the record: {missing} more octet(s) expected"));
    }

    /// <summary>
    /// Copies the next <paramref name="count"/> octets to <paramref name="output"/>
    /// and consumes them, without parsing or holding them: from file to file
    /// inside the kernel where the output allows it (see <see cref="FgOutput"/>),
    /// otherwise through the buffer or the mapping, a piece at a time. Input that
    /// ends first is a <c>truncated</c> error naming <paramref name="field"/>.
    /// </summary>
    public void CopyTo(FgOutput output, long count, string field)
    {
        _reads++;
        ArgumentNullException.ThrowIfNull(output);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_mode == Mode.Buffered)
        {
            CopyBuffered(output, count, field);
            return;
        }
        long rest = count;
        if (_mode == Mode.Mapped)
        {
            if (_input is FileStream mapped && output.TryCopyDirect(mapped.SafeFileHandle, _position, count, out long direct))
            {
                _position += direct;
                rest -= direct;
            }
        }
        while (rest > 0)
        {
            var at = Available();
            if (at.Length == 0)
            {
                if (!IsComplete) Fill(1, WindowSize);
                at = Available();
                if (at.Length == 0) throw Short(field, _position, rest, 0);
            }
            int n = (int)Math.Min(rest, at.Length);
            output.Write(at.Span.Slice(0, n));
            Consume(n);
            rest -= n;
        }
    }

    private void CopyBuffered(FgOutput output, long count, string field)
    {
        int inBuffer = (int)Math.Min(count, _end - _start);
        output.Write(_buffer.AsSpan(_start, inBuffer));
        _start += inBuffer;
        _position += inBuffer;
        long rest = count - inBuffer;
        if (rest == 0) return;
        if (_eof) throw Short(field, _position, rest, 0);
        var file = _input as FileStream;
        if (file is { CanSeek: true })
        {
            long at = file.Position;
            if (output.PagesLineUp(at) && output.TryCopyDirect(file.SafeFileHandle, at, rest, out long copied))
            {
                file.Position = at + copied;
                _position += copied;
                if (copied < rest)
                {
                    _eof = true;
                    throw Short(field, _position, rest - copied, 0);
                }
                return;
            }
        }
        // Read straight into the output's buffer: one copy in, one out, in pieces that stay in the
        // cache, each written out where a piece of the output ends: writes that start and end on the
        // output's page boundaries cost a third less than the same writes shifted (ext4).
        bool positioned = file is { CanSeek: true };
        var handle = positioned ? file!.SafeFileHandle : null; // each get of SafeFileHandle seeks
        long fileAt = positioned ? file!.Position : 0;
        try
        {
            while (rest > 0)
            {
                int toBoundary = CopyPiece - (int)(output.Offset % CopyPiece);
                var room = output.Reserve(toBoundary);
                room = room.Slice(0, (int)Math.Min(rest, Math.Min(room.Length, toBoundary)));
                int n = positioned ? RandomAccess.Read(handle!, room, fileAt) : _input!.Read(room);
                if (n <= 0)
                {
                    _eof = true;
                    throw Short(field, _position, rest, 0);
                }
                fileAt += n;
                output.Commit(n);
                if (output.Offset % CopyPiece == 0) output.Flush();
                _position += n;
                rest -= n;
            }
        }
        finally
        {
            if (positioned) file!.Position = fileAt;
        }
    }

    // A read of this size is copied from the page cache at memory speed; a larger one leaves the cache.
    private const int CopyPiece = 128 << 10;

    /// <summary>
    /// Consumes the next <paramref name="count"/> octets without reading them
    /// where the input can seek; input that ends first is a <c>truncated</c>
    /// error naming <paramref name="field"/>.
    /// </summary>
    public void Skip(long count, string field)
    {
        _reads++;
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        switch (_mode)
        {
            case Mode.Mapped:
            case Mode.Memory:
                long left = (_mode == Mode.Mapped ? _fileLength : _data.Length) - _position;
                // Input that ends first: reported where it ends, as from a stream.
                _position += Math.Min(count, left);
                if (_memoryStream is not null) SyncMemoryStream();
                if (count > left) throw Short(field, _position, count - left, 0);
                return;
            case Mode.Pipe:
                SkipPipe(count, field);
                return;
        }
        int inBuffer = (int)Math.Min(count, _end - _start);
        _start += inBuffer;
        _position += inBuffer;
        long rest = count - inBuffer;
        if (rest == 0) return;
        Discard(rest, _position, field);
        _position += rest;
    }

    private static FgException Short(string field, long at, long needed, long available) => FgException.Invalid("truncated", field, at,
        string.Create(CultureInfo.InvariantCulture, $"the input ends here: {needed} more octet(s) expected, {available} there"));

    // Buffered: passes over `count` octets past the buffer at offset `at`: a seek where the input can,
    // else read and dropped (into a buffer of their own: the element's octets stay in the buffer).
    // Input that ends first is a truncated error naming `field`, or the record when null.
    private void Discard(long count, long at, string? field)
    {
        long left = long.MaxValue;
        if (_input!.CanSeek)
        {
            try { left = _input.Length - _input.Position; }
            catch (NotSupportedException) { }
            _input.Position += Math.Min(count, left);
        }
        else
        {
            long done = 0;
            _scratch ??= new byte[DefaultRead];
            while (done < count)
            {
                int n = _input.Read(_scratch, 0, (int)Math.Min(count - done, _scratch.Length));
                if (n <= 0)
                {
                    left = done;
                    break;
                }
                done += n;
            }
        }
        if (count <= left) return;
        _eof = true;
        if (field is not null) _position = at + left;
        throw field is null
            ? FgException.Invalid("truncated", "(record)", at + left,
                string.Create(CultureInfo.InvariantCulture, $"input ends inside the record: {count - left} more octet(s) expected"))
            : Short(field, at + left, count - left, 0);
    }

    /// <summary>
    /// Makes at least <paramref name="need"/> octets available from the
    /// position, or reaches the end of the input. A buffer grows to at most
    /// <paramref name="cap"/> plus one read.
    /// </summary>
    public void Fill(long need, long cap)
    {
        switch (_mode)
        {
            case Mode.Memory: return;
            case Mode.Mapped:
                if (_position < _fileLength) MoveWindow(_position, need);
                return;
            case Mode.Pipe:
                while (!FillPipeFromHand(need, cap))
                {
                    AdvancePipe();
                    ReadPipe(_pipe!.ReadAsync().AsTask().GetAwaiter().GetResult());
                }
                return;
        }
        if (need > int.MaxValue) throw TooLong(need, cap, _position);
        while (_end - _start < need && !_eof)
        {
            int want = MakeRoom(Step(need), cap);
            int n = _input!.Read(_buffer!, _end, ReadAsk(want));
            if (n <= 0) _eof = true;
            else _end += n;
        }
    }

    /// <summary>
    /// Buffered: how much room to make on the way to <paramref name="need"/> octets: twice what is at
    /// hand, and at least the first buffer's mebibyte. The buffer grows with what arrives, not with
    /// what the input claims: 16 octets that claim a 4 GiB record cost that first buffer, not 4 GiB.
    /// </summary>
    private long Step(long need) => Math.Min(need, Math.Max(2L * (_end - _start), GrowStep));

    private const int GrowStep = PooledSize;

    /// <summary><see cref="Fill"/> without blocking a thread while the input waits.</summary>
    public async ValueTask FillAsync(long need, long cap, CancellationToken cancellationToken = default)
    {
        switch (_mode)
        {
            case Mode.Buffered:
                if (need > int.MaxValue) throw TooLong(need, cap, _position);
                while (_end - _start < need && !_eof)
                {
                    int want = MakeRoom(Step(need), cap);
                    int n = await _input!.ReadAsync(_buffer.AsMemory(_end, ReadAsk(want)), cancellationToken).ConfigureAwait(false);
                    if (n <= 0) _eof = true;
                    else _end += n;
                }
                return;
            case Mode.Pipe:
                while (!FillPipeFromHand(need, cap))
                {
                    AdvancePipe();
                    ReadPipe(await _pipe!.ReadAsync(cancellationToken).ConfigureAwait(false));
                }
                return;
            default:
                Fill(need, cap);
                return;
        }
    }

    // Buffered: room in the buffer for `need` octets from the position plus a read; returns `need`.
    private int MakeRoom(long need, long cap)
    {
        if (need > int.MaxValue) throw TooLong(need, cap, _position);
        int want = (int)need;
        if (_buffer!.Length - _start < Math.Max(want, _minRead))
        {
            int have = _end - _start;
            if (_buffer.Length < want)
            {
                // Grow by doubling, but never past the largest element plus one read: an element near
                // the limit must not cost twice its size (the pool would round up to a power of two).
                long most = cap + _minRead;
                int size = (int)Math.Min(Math.Min(Math.Max((long)want + _minRead, _buffer.Length * 2L), Math.Max(most, want)), Array.MaxLength);
                var bigger = GC.AllocateUninitializedArray<byte>(size);
                Buffer.BlockCopy(_buffer, _start, bigger, 0, have);
                ReturnBuffer();
                _buffer = bigger;
            }
            else
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, have);
            }
            _start = 0;
            _end = have;
        }
        return want;
    }

    private int ReadAsk(int want) => Math.Min(_buffer!.Length - _end, Math.Max(want - (_end - _start), _minRead));

    /// <summary>Only the first, small buffer comes from the pool; larger ones are sized exactly.</summary>
    private void ReturnBuffer()
    {
        if (_buffer is { Length: PooledSize }) ArrayPool<byte>.Shared.Return(_buffer);
    }

    // Pipe: true when `need` octets from the position are at hand in one piece (joining segments if
    // they must be) or the pipe has ended; false when more must be read. Joined octets are a copy:
    // the pipe keeps them until they are consumed (another reader can go on from the position).
    // Before a read, though, all that is at hand is taken into the joined buffer and given back:
    // a pipe's writer may wait until its reader consumes (PipeOptions.PauseWriterThreshold), so a
    // reader that held on to an element larger than that would wait for ever.
    private bool FillPipeFromHand(long need, long cap)
    {
        if (need > int.MaxValue) throw TooLong(need, int.MaxValue, _position);
        long joined = JoinedRest();
        long joinedEnd = _position + joined;
        if (joined > 0 ? joined >= need : _seq.Slice(_position - _seqStart).First.Length >= need) return true;
        long total = joined + _seqStart + _seq.Length - joinedEnd;
        if (total >= need || _pipeDone)
        {
            // Join what the element needs, and a little more so that the next small element is in it too.
            Join((int)Math.Min(total, Math.Max(need, 64 << 10)), cap, give: false);
            return true;
        }
        Join((int)total, cap, give: true);
        return false;
    }

    // Pipe: octets of the joined buffer from the position (0 when the position is past it).
    private long JoinedRest() => _joinedStart >= 0 && _position >= _joinedStart ? Math.Max(0, _joinedStart + _joinedLength - _position) : 0;

    // Pipe: makes the joined buffer hold `n` octets from the position: those it holds, then octets
    // copied from the pipe's buffer; with `give`, the pipe's buffer then starts after them (they
    // are the reader's, to be given back to the pipe as consumed before its next read).
    private void Join(int n, long cap, bool give)
    {
        int kept = (int)JoinedRest();
        long joinedEnd = _position + kept;
        var target = _joined;
        if (target is null || target.Length < n)
        {
            // A joined buffer up to 1 MiB comes from the pool; a larger one grows by doubling up to the
            // element's limit and is sized exactly (the pool would round it up to a power of two, and keep it).
            long size = n <= PooledSize ? n : Math.Min(Math.Max(n, 2L * (target?.Length ?? 0)), Math.Max(n, cap + (64 << 10)));
            var bigger = size <= PooledSize ? ArrayPool<byte>.Shared.Rent(Math.Max((int)size, 64 << 10)) : GC.AllocateUninitializedArray<byte>((int)Math.Min(size, Array.MaxLength));
            if (kept > 0) Array.Copy(_joined!, (int)(_position - _joinedStart), bigger, 0, kept);
            ReturnJoined();
            _joined = target = bigger;
        }
        else if (kept > 0)
        {
            Array.Copy(target, (int)(_position - _joinedStart), target, 0, kept);
        }
        long from = joinedEnd - _seqStart;
        int take = n - kept;
        _seq.Slice(from, take).CopyTo(target.AsSpan(kept));
        if (give)
        {
            _seq = _seq.Slice(from + take);
            _seqStart += from + take;
        }
        _joinedStart = _position;
        _joinedLength = n;
    }

    private void ReturnJoined()
    {
        if (_joined is { Length: <= PooledSize }) ArrayPool<byte>.Shared.Return(_joined);
        _joined = null;
    }

    // Pipe: what has been consumed is given back, and all of the buffer marked as seen, before the pipe's next read.
    private void AdvancePipe()
    {
        if (!_pipeHeld) return;
        _pipeHeld = false;
        long consumed = Math.Clamp(_position - _seqStart, 0, _seq.Length);
        _pipe!.AdvanceTo(_seq.GetPosition(consumed), _seq.End);
        _seqStart += consumed;
        _seq = default;
    }

    private void ReadPipe(ReadResult result)
    {
        if (result.IsCanceled) throw new OperationCanceledException("The pipe's read was canceled.");
        _seq = result.Buffer;
        _pipeHeld = true;
        _pipeDone = result.IsCompleted;
    }

    // Pipe: passes over `count` octets, reading and dropping those not yet there.
    private void SkipPipe(long count, string field)
    {
        while (true)
        {
            long have = _seqStart + _seq.Length - _position;
            if (count <= have)
            {
                _position += count;
                return;
            }
            _position += have;
            count -= have;
            if (_pipeDone) throw Short(field, _position, count, 0);
            AdvancePipe();
            ReadPipe(_pipe!.ReadAsync().AsTask().GetAwaiter().GetResult());
        }
    }

    private Window MoveWindow(long at, long need)
    {
        if (need > int.MaxValue) throw TooLong(need, int.MaxValue, at);
        // An element is mapped whole (mapping costs no memory until octets are touched, and a check
        // touches little of a large one); a window always reaches the end of the file when the element does.
        // A window holds a few elements: large ones (a check touches little of them) get a larger
        // window, so that the mapping moves once every few elements, not at each.
        long size = Math.Max(need, Math.Max(WindowSize, Math.Min(4L * _lastLength, 4L * WindowSize)));
        long length = Math.Min(size, _fileLength - at);
        // Octets of a file that shrank since it was opened cannot be read through a mapping (the
        // process would be killed): refuse them here. (A file cut between this and the read still is.)
        long now = _input is FileStream fs ? RandomAccess.GetLength(fs.SafeFileHandle) : _fileLength;
        if (now < at + length)
            throw FgException.Invalid("truncated", "(input)", Math.Max(now, 0),
                string.Create(CultureInfo.InvariantCulture, $"the file shrank while being read: it was {_fileLength} octets, it is {now}"));
        var accessor = _map!.CreateViewAccessor(at, length, MemoryMappedFileAccess.Read);
        var window = new Window(accessor, at, (int)length);
        // Spans of a window stay valid until the read after the next: release only what is older.
        for (int i = _retired.Count - 1; i >= 0; i--)
            if (_retired[i].RetiredAt + 2 <= _reads)
            {
                _retired[i].Release();
                _retired.RemoveAt(i);
            }
        if (_window is not null)
        {
            _window.RetiredAt = _reads;
            _retired.Add(_window);
        }
        _window = window;
        _block = window.Octets;
        _blockStart = at;
        return window;
    }

    public void Dispose()
    {
        _window?.Release();
        foreach (var w in _retired) w.Release();
        _retired.Clear();
        _window = null;
        _block = default;
        _map?.Dispose();
        _map = null;
        ReturnBuffer();
        _buffer = null;
        if (_pipe is not null)
        {
            if (_pipeHeld) _pipe.AdvanceTo(_seq.GetPosition(Math.Clamp(_position - _seqStart, 0, _seq.Length)));
            _pipeHeld = false;
            _seq = default;
            ReturnJoined();
            if (!_leaveOpen) _pipe.Complete();
        }
        if (!_leaveOpen) _input?.Dispose();
    }

    /// <summary>A mapped window of the file: octets [Start, End) as memory that models can slice without copying.</summary>
    private sealed unsafe class Window : MemoryManager<byte>
    {
        private readonly MemoryMappedViewAccessor _view;
        private byte* _p;
        private readonly int _length;
        public readonly long Start;
        public readonly long End;
        public readonly ReadOnlyMemory<byte> Octets;
        public long RetiredAt;

        public Window(MemoryMappedViewAccessor view, long start, int length)
        {
            _view = view;
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _p = p + view.PointerOffset;
            _length = length;
            Start = start;
            End = start + length;
            Octets = CreateMemory(length);
        }

        public override Span<byte> GetSpan() => _p != null ? new(_p, _length)
            : throw new ObjectDisposedException("FgSource window", "The octets of an element were used after the source had moved on: copy what must outlive the next read.");

        /// <summary>The address of the octet <paramref name="index"/> octets into the window.</summary>
        public byte* At(long index) => _p + index;

        /// <summary>The octets at file offset <paramref name="offset"/>, which lie in the window.</summary>
        public ReadOnlySpan<byte> Slice(long offset, int length) => new(_p + (offset - Start), length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(_p + elementIndex);
        public override void Unpin() { }

        protected override void Dispose(bool disposing)
        {
            if (_p == null) return;
            _p = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        public void Release() => ((IDisposable)this).Dispose();
    }
}
