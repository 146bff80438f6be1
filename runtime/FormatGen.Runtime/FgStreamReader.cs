using System;
using System.Buffers;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Globalization;

namespace FormatGen.Runtime;

/// <summary>Limits and switches of a <see cref="FgStreamReader{TElement}"/>.</summary>
public sealed record FgStreamOptions
{
    /// <summary>
    /// Largest element (record) accepted, in octets. When the grammar marks a
    /// field with <c>-fg-limit</c> (Xen: the record body, whose limit
    /// REC_LENGTH_MAX is 128 MiB), the limit applies to that field instead and
    /// the rest of the element may add at most <see cref="FgStreamReader{T}.FramingAllowance"/> octets.
    /// </summary>
    public int MaxElementLength { get; init; } = 128 << 20;

    /// <summary>Check every grammar rule while reading.</summary>
    public bool Validate { get; init; } = true;

    /// <summary>Map regular files into memory instead of copying them through a buffer.</summary>
    public bool MapFiles { get; init; } = true;
}

/// <summary>
/// Reads a grammar's streamed repeat one element at a time from any
/// <see cref="Stream"/>: files, pipes and sockets whose reads return short.
/// It holds one element (plus a read-ahead chunk) at a time, so memory stays
/// flat however long the stream. Regular files are memory-mapped: bulk data
/// that no check needs is never copied.
/// </summary>
/// <remarks>
/// Models and spans returned for an element stay valid until the next call to
/// <see cref="MoveNext"/>; copy what must outlive that.
/// </remarks>
public sealed unsafe class FgStreamReader<TElement> : IDisposable where TElement : class
{
    private const int MinRead = 256 << 10;

    /// <summary>Octets an element may have beyond its limited field (headers, padding).</summary>
    public const int FramingAllowance = 64 << 10;

    private readonly Stream _input;
    private readonly FgStreamGrammar<TElement> _grammar;
    private readonly FgStreamOptions _options;
    private readonly FgValidation? _validation;
    private readonly long _maxElement;   // the whole element's limit

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

    private long _position;   // absolute offset of the next unconsumed octet
    private bool _prefixRead;
    private bool _finished;
    private int _elementLength;
    private int _elementBufferStart;
    private int _elementBuffered;

    public FgStreamReader(Stream input, FgStreamGrammar<TElement> grammar, FgStreamOptions? options = null)
    {
        _input = input ?? throw new ArgumentNullException(nameof(input));
        _grammar = grammar ?? throw new ArgumentNullException(nameof(grammar));
        _options = options ?? new FgStreamOptions();
        _validation = _options.Validate ? new FgValidation() : null;
        _maxElement = grammar.LimitsField ? (long)_options.MaxElementLength + FramingAllowance : _options.MaxElementLength;
        if (_options.MapFiles && input is FileStream fs && fs.CanSeek && TryMap(fs)) return;
        _buffer = ArrayPool<byte>.Shared.Rent(PooledSize);
    }

    /// <summary>Violations found by the last <see cref="ReadPrefix"/> or <see cref="MoveNext"/>.</summary>
    public FgValidation? Validation => _validation;

    /// <summary>The grammar, holding the prefix once it is read.</summary>
    public FgStreamGrammar<TElement> Grammar => _grammar;

    /// <summary>Index of the current element; -1 before the first.</summary>
    public long Index { get; private set; } = -1;

    /// <summary>Absolute offset of the current element.</summary>
    public long ElementOffset { get; private set; }

    /// <summary>Length of the current element in octets.</summary>
    public int ElementLength => _elementLength;

    /// <summary>The current element's model (when read with build) or null.</summary>
    public TElement? Current { get; private set; }

    /// <summary>True once the element that ends the repeat has been read.</summary>
    public bool Finished => _finished;

    /// <summary>Absolute offset just past what has been consumed.</summary>
    public long Position => _position;

    /// <summary>Whether the input is memory-mapped.</summary>
    public bool IsMapped => _map is not null;

    /// <summary>
    /// The raw octets of the current element. When a check skipped octets of a piped
    /// element without buffering them, only its first octets (at least up to the
    /// last field that was read) are here.
    /// </summary>
    public ReadOnlySpan<byte> ElementBytes => Index < 0 ? default : CurrentSpan();

    private ReadOnlySpan<byte> CurrentSpan()
    {
        if (_map is not null) return new ReadOnlySpan<byte>(_mapped + ElementOffset, _elementLength);
        // After a skip-ahead only the element's first octets are buffered.
        int kept = Math.Min(_elementLength, _elementBuffered);
        return new ReadOnlySpan<byte>(_buffer, _elementBufferStart, kept);
    }

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

    /// <summary>Reads the fields before the streamed repeat. Throws <see cref="FgException"/> on a structural error.</summary>
    public void ReadPrefix()
    {
        if (_prefixRead) throw new InvalidOperationException("The prefix has already been read.");
        _validation?.Clear();
        int used = Parse(prefix: true, build: true, index: -1, out _);
        Consume(used);
        _prefixRead = true;
    }

    /// <summary>
    /// Reads the next element. Returns false once the element that ends the
    /// repeat has been read. Throws <see cref="FgException"/> (with the
    /// element index) on a structural error or an element over the limit.
    /// </summary>
    public bool MoveNext(bool build = true)
    {
        if (!_prefixRead) ReadPrefix();
        if (_finished) return false;
        _validation?.Clear();
        Index++;
        ElementOffset = _position;
        _elementBuffered = 0;
        try
        {
            int used = Parse(prefix: false, build, Index, out bool last);
            _elementBufferStart = _start;
            _elementBuffered = _map is null ? Math.Min(used, _end - _start) : used;
            Consume(used);
            _elementLength = used;
            _finished = last;
        }
        catch (FgException e)
        {
            e.RecordIndex = Index;
            // A failed discard has consumed the element's buffered octets already.
            e.RecordName ??= _grammar.Label(_elementBuffered > 0 ? CurrentSpan() : Available().Span);
            throw;
        }
        // The label is a string: only made when there is something to report.
        if (_validation is { Count: > 0 }) _validation.StampRecord(0, Index, _grammar.Label(CurrentSpan()));
        return true;
    }

    /// <summary>After the repeat ended: whether any octet follows it.</summary>
    public bool HasTrailingData()
    {
        if (_map is not null) return _position < _fileLength;
        if (_end > _start) return true;
        Fill(1);
        return _end > _start;
    }

    private int Parse(bool prefix, bool build, long index, out bool last)
    {
        while (true)
        {
            var memory = Available();
            bool complete = IsComplete();
            // Checking a piped element may skip octets no rule reads (opaque blobs, page data)
            // without buffering them; they are discarded from the input afterwards.
            bool skipAhead = !build && !prefix && _map is null && !complete;
            var reader = new FgReader(memory, _prefixRead && _grammar.ElementsLittleEndian, _position, soft: !complete, skipAhead);
            if (!prefix) reader.SizeLimit = _options.MaxElementLength;
            int mark = _validation?.Count ?? 0;
            TElement? element = null;
            last = false;
            if (prefix) _grammar.ReadPrefix(ref reader, _validation);
            else element = _grammar.ReadElement(ref reader, _validation, build, index, out last);
            if (!reader.IsShort)
            {
                if (!prefix && reader.Position > _maxElement) throw TooLong(reader.Position);
                Current = element;
                return reader.Position;
            }
            _validation?.TruncateTo(mark);
            if (reader.Needed > _maxElement) throw TooLong(reader.Needed);
            // A short read always asks for more than there is; anything else would loop forever.
            if (reader.Needed <= memory.Length) throw new InvalidOperationException("A short read asked for octets that are already there.");
            Fill(reader.Needed);
        }
    }

    private FgException TooLong(long length) => FgException.Invalid("record-length-limit", "(record)", _position,
        string.Create(CultureInfo.InvariantCulture, $"record of {length} octets exceeds the limit of {_maxElement} octets"));

    private bool IsComplete() => _map is not null ? _windowStart + _window!.Length >= _fileLength : _eof;

    private ReadOnlyMemory<byte> Available()
    {
        if (_map is not null)
        {
            if (_window is null) MoveWindow();
            return _window!.Memory.Slice((int)(_position - _windowStart));
        }
        return new ReadOnlyMemory<byte>(_buffer, _start, _end - _start);
    }

    private void Consume(int n)
    {
        if (_map is null)
        {
            int inBuffer = Math.Min(n, _end - _start);
            _start += inBuffer;
            if (n > inBuffer) Discard(n - inBuffer, _position + inBuffer);
        }
        _position += n;
    }

    /// <summary>Reads and drops octets a check skipped (they were never buffered).</summary>
    private void Discard(long count, long at)
    {
        _scratch ??= new byte[MinRead];
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

    /// <summary>Makes at least <paramref name="need"/> octets available from the current position, or sets end of input.</summary>
    private void Fill(long need)
    {
        if (_map is not null)
        {
            // The whole file is mapped; only the 2 GiB window a span can cover runs short.
            MoveWindow();
            return;
        }
        if (need > int.MaxValue) throw TooLong(need);
        int want = (int)need;
        if (_buffer!.Length - _start < Math.Max(want, MinRead))
        {
            int have = _end - _start;
            if (_buffer.Length < want)
            {
                // Grow by doubling, but never past the largest record plus one read: a record
                // near the limit must not cost twice its size (the pool would round up to a power of two).
                long cap = _maxElement + MinRead;
                int size = (int)Math.Min(Math.Min(Math.Max((long)want + MinRead, _buffer.Length * 2L), Math.Max(cap, want)), Array.MaxLength);
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
            int ask = Math.Min(room, Math.Max(want - (_end - _start), MinRead));
            int n = _input.Read(_buffer, _end, ask);
            if (n <= 0) _eof = true;
            else _end += n;
        }
    }

    private const int PooledSize = 1 << 20;

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
