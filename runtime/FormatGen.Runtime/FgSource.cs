using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.IO.MemoryMappedFiles;

namespace FormatGen.Runtime;

/// <summary>Reads one structure from the octets at hand (see <see cref="FgSource.Read{T}"/>).</summary>
public delegate T FgReadFunc<out T>(ref FgReader reader);

/// <summary>
/// The octets of one input, shared by the readers that take turns on it: a
/// stream whose elements carry another stream inline (a container and what
/// it wraps, two protocol layers on one wire). It holds the buffer or the
/// mapping and the position; each reader consumes exactly the octets of what
/// it returns and never reads ahead of it, so after any element another
/// reader can continue from the same octet. Regular files are memory-mapped;
/// pipes and sockets are read through a buffer that holds one element plus a
/// read-ahead chunk.
/// </summary>
/// <remarks>
/// Spans into the source stay valid until the next read from it, by any reader.
/// </remarks>
public sealed unsafe class FgSource : IDisposable
{
    private const int DefaultRead = 256 << 10;
    private const int PooledSize = 1 << 20;

    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly int _minRead;

    // Buffered source.
    private byte[]? _buffer;
    private int _start;   // first unconsumed octet in _buffer
    private int _end;     // end of data in _buffer
    private bool _eof;
    private byte[]? _scratch;

    // Mapped source.
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _mapped;
    private long _fileLength;
    private PointerMemory? _window;
    private long _windowStart = -1;

    private long _position;

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
        if (mapFiles && input is FileStream fs && fs.CanSeek && TryMap(fs)) return;
        _buffer = ArrayPool<byte>.Shared.Rent(PooledSize);
    }

    /// <summary>Absolute offset of the next unconsumed octet.</summary>
    public long Position => _position;

    /// <summary>Whether the input is memory-mapped.</summary>
    public bool IsMapped => _map is not null;

    private bool TryMap(FileStream fs)
    {
        long length;
        try { length = fs.Length - fs.Position; } catch (IOException) { return false; }
        if (length <= 0 || fs.Position != 0) return false;
        try
        {
            _map = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _mapped = p + _view.PointerOffset;
            _fileLength = length;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            ReleaseMap();
            return false;
        }
    }

    /// <summary>The unconsumed octets at hand (more may follow: see <see cref="IsComplete"/>).</summary>
    public ReadOnlyMemory<byte> Available()
    {
        if (_map is not null)
        {
            if (_window is null) MoveWindow();
            return _window!.Memory.Slice((int)(_position - _windowStart));
        }
        return new ReadOnlyMemory<byte>(_buffer, _start, _end - _start);
    }

    /// <summary>Whether <see cref="Available"/> reaches the end of the input.</summary>
    public bool IsComplete
    {
        get
        {
            if (_map is null) return _eof;
            if (_window is null) MoveWindow();
            return _windowStart + _window!.Length >= _fileLength;
        }
    }

    /// <summary>Whether any octet is left.</summary>
    public bool AtEnd
    {
        get
        {
            if (_map is not null) return _position >= _fileLength;
            if (_end > _start) return false;
            Fill(1, PooledSize);
            return _end <= _start;
        }
    }

    /// <summary>
    /// Whether octets follow the position, when that can be told without
    /// waiting for a writer: true or false, or null for a pipe or socket with
    /// nothing buffered (only a read, which may wait, could tell).
    /// </summary>
    public bool? MoreWithoutWaiting()
    {
        if (_map is not null) return _position < _fileLength;
        if (_end > _start) return true;
        if (_eof) return false;
        if (!_input.CanSeek) return null;
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
    /// reading from a pipe may skip octets no rule reads (opaque blobs, page data)
    /// without buffering them; <see cref="Consume"/> discards them from the input.
    /// </summary>
    public T Parse<T>(FgReadFunc<T> read, bool littleEndian, long maxLength, bool skipAhead, out int length, out bool handedOff)
    {
        while (true)
        {
            var memory = Available();
            bool complete = IsComplete;
            var reader = new FgReader(memory, littleEndian, _position, soft: !complete, skipAhead && _map is null && !complete) { StopAtHandoff = true };
            var result = read(ref reader);
            if (!reader.IsShort)
            {
                if (reader.Position > maxLength) throw TooLong(reader.Position, maxLength, _position);
                length = reader.Position;
                handedOff = reader.HandedOff;
                return result;
            }
            if (reader.Needed > maxLength) throw TooLong(reader.Needed, maxLength, _position);
            // A short read always asks for more than there is; anything else would loop forever.
            if (reader.Needed <= memory.Length) throw new InvalidOperationException("A short read asked for octets that are already there.");
            // Each short parse starts again from the element's start: from a file (where reads never wait) take at
            // least twice what is at hand, so a large element is parsed a few times, not once per read.
            long want = _input.CanSeek ? Math.Max(reader.Needed, Math.Min(2L * memory.Length, maxLength)) : reader.Needed;
            Fill(want, maxLength);
        }
    }

    private static FgException TooLong(long length, long max, long at) => FgException.Invalid("record-length-limit", "(record)", at,
        string.Create(CultureInfo.InvariantCulture, $"record of {length} octets exceeds the limit of {max} octets"));

    /// <summary>Index in the buffer of the next unconsumed octet (buffered sources).</summary>
    internal int BufferStart => _start;

    /// <summary>Octets buffered past the position (buffered sources).</summary>
    internal int Buffered => _end - _start;

    /// <summary>Octets of the buffer (buffered sources) or of the mapping.</summary>
    internal ReadOnlySpan<byte> Span(long offset, int bufferIndex, int length)
        => _map is not null ? new ReadOnlySpan<byte>(_mapped + offset, length) : new ReadOnlySpan<byte>(_buffer, bufferIndex, length);

    /// <summary>Consumes <paramref name="n"/> octets; those past the buffer (skipped by a check) are read and dropped.</summary>
    public void Consume(int n)
    {
        if (_map is null)
        {
            int inBuffer = Math.Min(n, _end - _start);
            _start += inBuffer;
            if (n > inBuffer) Discard(n - inBuffer, _position + inBuffer);
        }
        _position += n;
    }

    /// <summary>
    /// Copies the next <paramref name="count"/> octets to <paramref name="output"/>
    /// and consumes them, without parsing or holding them: from file to file
    /// inside the kernel where the output allows it (see <see cref="FgOutput"/>),
    /// otherwise through the buffer, one buffer at a time. Input that ends
    /// first is a <c>truncated</c> error naming <paramref name="field"/>.
    /// </summary>
    public void CopyTo(FgOutput output, long count, string field)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_map is not null)
        {
            if (count > _fileLength - _position) throw Short(field, _position, count, _fileLength - _position);
            long direct = 0;
            if (_input is FileStream mapped && output.TryCopyDirect(mapped.SafeFileHandle, _position, count, out direct) && direct == count)
            {
                _position += count;
                return;
            }
            for (long done = direct; done < count;)
            {
                int n = (int)Math.Min(count - done, 1 << 30);
                output.Write(new ReadOnlySpan<byte>(_mapped + _position + done, n));
                done += n;
            }
            _position += count;
            return;
        }
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
                int n = positioned ? RandomAccess.Read(handle!, room, fileAt) : _input.Read(room);
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
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_map is not null)
        {
            if (count > _fileLength - _position) throw Short(field, _position, count, _fileLength - _position);
            _position += count;
            return;
        }
        int inBuffer = (int)Math.Min(count, _end - _start);
        _start += inBuffer;
        _position += inBuffer;
        long rest = count - inBuffer;
        if (rest == 0) return;
        if (_input is FileStream fs && fs.CanSeek)
        {
            long left = fs.Length - fs.Position;
            if (rest > left)
            {
                fs.Position += left;
                _position += left;
                _eof = true;
                throw Short(field, _position, rest - left, 0);
            }
            fs.Position += rest;
            _position += rest;
            return;
        }
        Discard(rest, _position);
        _position += rest;
    }

    private static FgException Short(string field, long at, long needed, long available) => FgException.Invalid("truncated", field, at,
        string.Create(CultureInfo.InvariantCulture, $"the input ends here: {needed} more octet(s) expected, {available} there"));

    private void Discard(long count, long at)
    {
        _scratch ??= new byte[DefaultRead];
        while (count > 0)
        {
            int n = _input.Read(_scratch, 0, (int)Math.Min(count, _scratch.Length));
            if (n <= 0)
            {
                _eof = true;
                throw FgException.Invalid("truncated", "(record)", at,
                    string.Create(CultureInfo.InvariantCulture, $"input ends inside the record: {count} more octet(s) expected"));
            }
            count -= n;
            at += n;
        }
    }

    /// <summary>
    /// Makes at least <paramref name="need"/> octets available from the
    /// position, or reaches the end of the input. A buffer grows to at most
    /// <paramref name="cap"/> plus one read.
    /// </summary>
    public void Fill(long need, long cap)
    {
        if (_map is not null)
        {
            // The whole file is mapped; only the 2 GiB window a span can cover runs short.
            MoveWindow();
            return;
        }
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
        while (_end - _start < want && !_eof)
        {
            int room = _buffer.Length - _end;
            int ask = Math.Min(room, Math.Max(want - (_end - _start), _minRead));
            int n = _input.Read(_buffer, _end, ask);
            if (n <= 0) _eof = true;
            else _end += n;
        }
    }

    /// <summary>Only the first, small buffer comes from the pool; larger ones are sized exactly.</summary>
    private void ReturnBuffer()
    {
        if (_buffer is { Length: PooledSize }) ArrayPool<byte>.Shared.Return(_buffer);
    }

    private void MoveWindow()
    {
        long len = Math.Min(_fileLength - _position, int.MaxValue);
        _window = new PointerMemory(_mapped + _position, (int)len);
        _windowStart = _position;
    }

    private void ReleaseMap()
    {
        if (_view is not null && _mapped != null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _mapped = null;
        _view?.Dispose();
        _map?.Dispose();
        _view = null;
        _map = null;
    }

    public void Dispose()
    {
        ReleaseMap();
        ReturnBuffer();
        _buffer = null;
        if (!_leaveOpen) _input.Dispose();
    }

    /// <summary>Memory over mapped octets, so models can slice a mapped file without copying.</summary>
    private sealed class PointerMemory : MemoryManager<byte>
    {
        private readonly byte* _p;
        private readonly int _length;
        public PointerMemory(byte* p, int length) { _p = p; _length = length; }
        public int Length => _length;
        public override Span<byte> GetSpan() => new(_p, _length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(_p + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
