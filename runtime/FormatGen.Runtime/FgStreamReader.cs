using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

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
/// that no check needs is never copied. Several readers can take turns on one
/// <see cref="FgSource"/>: each consumes exactly the octets of the elements it
/// returns, and an element stops before a field marked <c>-fg-handoff</c>
/// (<see cref="HandedOff"/>), whose octets another reader then takes.
/// </summary>
/// <remarks>
/// Models and spans returned for an element stay valid until the next call to
/// <see cref="MoveNext(bool)"/>; copy what must outlive that.
/// </remarks>
public sealed class FgStreamReader<TElement> : IDisposable where TElement : class
{
    /// <summary>Octets an element may have beyond its limited field (headers, padding).</summary>
    public const int FramingAllowance = 64 << 10;

    private readonly FgSource _source;
    private readonly bool _ownsSource;
    private readonly FgStreamGrammar<TElement> _grammar;
    private readonly FgStreamOptions _options;
    private readonly FgValidation? _validation;
    private readonly long _maxElement;   // the whole element's limit
    private readonly long _maxField;     // the limited field's (FgReader.SizeLimit)
    private bool _elementsLittleEndian;  // the grammar's, once the prefix is read
    private readonly FgReadFunc<TElement?> _readOne;

    private bool _prefixRead;
    private bool _finished;
    private int _elementLength;
    private ReadOnlyMemory<byte> _elementOctets;   // what is at hand of the current element
    private bool _elementInMemory;                  // or: all of it, in the source's memory (not kept here)

    /// <summary>A reader that owns its input's octets (see the <see cref="FgSource"/> overload to share them).</summary>
    public FgStreamReader(Stream input, FgStreamGrammar<TElement> grammar, FgStreamOptions? options = null)
        : this(new FgSource(input ?? throw new ArgumentNullException(nameof(input)), (options ?? new FgStreamOptions()).MapFiles), grammar, options, ownsSource: true)
    {
    }

    /// <summary>A reader that takes its elements from <paramref name="source"/>, at its position, in turn with other readers.</summary>
    public FgStreamReader(FgSource source, FgStreamGrammar<TElement> grammar, FgStreamOptions? options = null)
        : this(source ?? throw new ArgumentNullException(nameof(source)), grammar, options, ownsSource: false)
    {
    }

    private FgStreamReader(FgSource source, FgStreamGrammar<TElement> grammar, FgStreamOptions? options, bool ownsSource)
    {
        _source = source;
        _ownsSource = ownsSource;
        _grammar = grammar ?? throw new ArgumentNullException(nameof(grammar));
        _options = options ?? new FgStreamOptions();
        _validation = _options.Validate ? new FgValidation() : null;
        _maxElement = grammar.LimitsField ? (long)_options.MaxElementLength + FramingAllowance : _options.MaxElementLength;
        _maxField = _options.MaxElementLength;
        _readOne = ReadOne;
    }

    /// <summary>Violations found by the last <see cref="ReadPrefix"/> or <see cref="MoveNext(bool)"/>.</summary>
    public FgValidation? Validation => _validation;

    /// <summary>The grammar, holding the prefix once it is read.</summary>
    public FgStreamGrammar<TElement> Grammar => _grammar;

    /// <summary>The octets this reader takes its elements from.</summary>
    public FgSource Source => _source;

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

    /// <summary>
    /// The current element ended before a field marked <c>-fg-handoff</c>: the
    /// octets that follow it are another stream's, to be read (from the same
    /// <see cref="Source"/>) before this reader's next element.
    /// </summary>
    public bool HandedOff { get; private set; }

    /// <summary>Absolute offset just past what has been consumed (from the shared source: by any reader).</summary>
    public long Position => _source.Position;

    /// <summary>Whether the input is memory-mapped.</summary>
    public bool IsMapped => _source.IsMapped;

    /// <summary>
    /// The raw octets of the current element. When a check skipped octets of a piped
    /// element without buffering them, only its first octets (at least up to the
    /// last field that was read) are here.
    /// </summary>
    public ReadOnlySpan<byte> ElementBytes => Index < 0 ? default : CurrentSpan();

    // After a skip-ahead only the element's first octets are buffered.
    private ReadOnlySpan<byte> CurrentSpan() => _elementInMemory ? _source.MemorySpan(ElementOffset, _elementLength) : _elementOctets.Span;

    /// <summary>Reads the fields before the streamed repeat. Throws <see cref="FgException"/> on a structural error.</summary>
    public void ReadPrefix()
    {
        if (_prefixRead) throw new InvalidOperationException("The prefix has already been read.");
        _validation?.Clear();
        int used = Parse(prefix: true, build: true, skipAhead: false, index: -1, out _);
        _source.Consume(used);
        _prefixRead = true;
        _elementsLittleEndian = _grammar.ElementsLittleEndian;
    }

    /// <summary>
    /// Reads the next element. Returns false once the element that ends the
    /// repeat has been read. Throws <see cref="FgException"/> (with the
    /// element index) on a structural error or an element over the limit.
    /// </summary>
    public bool MoveNext(bool build = true) => MoveNext(build, skipAhead: true);

    /// <summary>
    /// <see cref="MoveNext(bool)"/>; with <paramref name="skipAhead"/> false an
    /// element checked without building is still buffered whole from a pipe
    /// (<see cref="ElementBytes"/> holds all of it), so what it reports, a
    /// truncated element too, is what building it reports.
    /// </summary>
    public bool MoveNext(bool build, bool skipAhead)
    {
        if (_source.IsInMemory && _prefixRead) return MoveNextInMemory(build);
        if (!_prefixRead) ReadPrefix();
        if (!Begin()) return false;
        int used;
        try
        {
            used = Parse(prefix: false, build, skipAhead, Index, out _);
        }
        catch (FgException e) { throw Stamp(e); }
        return End(used);
    }

    // Memory, all of it at hand: one attempt, never short, nothing to fill, no octets to keep.
    // Parse and End without what only the other sources need (about a fifth faster per element).
    private bool MoveNextInMemory(bool build)
    {
        if (!Begin()) return false;
        var reader = _source.MemoryReader(_elementsLittleEndian);
        reader.SizeLimit = _maxField;
        reader.ElementLimit = _maxElement;
        bool last;
        int mark = _validation?.Count ?? 0;
        try
        {
            Current = _grammar.ReadElement(ref reader, _validation, build, Index, out last);
            if (reader.IsShort)
            {
                // Ran past the input and the element limit (FgReader.ElementLimit): what it found meanwhile is not said.
                _validation?.TruncateTo(mark);
                throw FgSource.TooLong(reader.Needed, _maxElement, ElementOffset);
            }
            if (reader.Position > _maxElement) throw FgSource.TooLong(reader.Position, _maxElement, ElementOffset);
        }
        catch (FgException e) { throw Stamp(e); }
        int used = reader.Position;
        HandedOff = reader.HandedOff;
        _source.Advance(used);
        _elementLength = used;
        _elementInMemory = true;
        _finished = last;
        _source.ElementRead(used);
        if (_validation is { Count: > 0 }) _validation.StampRecord(0, Index, _grammar.Label(CurrentSpan()), _grammar.ElementNoun);
        return true;
    }

    /// <summary>
    /// <see cref="MoveNext(bool)"/> for async callers: waits for the input without
    /// blocking a thread (a socket, a <see cref="System.IO.Pipelines.PipeReader"/>).
    /// Holds each element whole: nothing is skipped ahead.
    /// </summary>
    public async ValueTask<bool> MoveNextAsync(bool build = true, CancellationToken cancellationToken = default)
    {
        if (!_prefixRead) await ReadPrefixAsync(cancellationToken).ConfigureAwait(false);
        if (!Begin()) return false;
        int used;
        try
        {
            SetUp(prefix: false, build, Index);
            (Current, used, bool handedOff) = await _source.ParseAsync(_readOne, _elementsLittleEndian, _maxElement, cancellationToken).ConfigureAwait(false);
            HandedOff = handedOff;
        }
        catch (FgException e) { throw Stamp(e); }
        catch
        {
            // Canceled, or the input failed, before the element was read: it is read again next time.
            Index--;
            throw;
        }
        return End(used);
    }

    /// <summary>
    /// The elements one at a time, for <c>await foreach</c>: each is valid
    /// until the next is read (see <see cref="MoveNextAsync"/>); with
    /// <paramref name="build"/> false the elements are checked and null is yielded.
    /// </summary>
    public async IAsyncEnumerable<TElement?> ReadAllAsync(bool build = true, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await MoveNextAsync(build, cancellationToken).ConfigureAwait(false)) yield return Current;
    }

    /// <summary><see cref="ReadPrefix"/> for async callers.</summary>
    public async ValueTask ReadPrefixAsync(CancellationToken cancellationToken = default)
    {
        if (_prefixRead) throw new InvalidOperationException("The prefix has already been read.");
        _validation?.Clear();
        SetUp(prefix: true, build: true, -1);
        (_, int used, _) = await _source.ParseAsync(_readOne, false, _maxElement, cancellationToken).ConfigureAwait(false);
        _source.Consume(used);
        _prefixRead = true;
        _elementsLittleEndian = _grammar.ElementsLittleEndian;
    }

    // The start of an element: false when the repeat has ended.
    private bool Begin()
    {
        if (_finished) return false;
        _validation?.Clear();
        Index++;
        ElementOffset = _source.Position;
        _elementOctets = default;
        _elementInMemory = false;
        return true;
    }

    // An element of `used` octets has been read: consume it.
    private bool End(int used)
    {
        var octets = _source.LastAttempt;
        _elementOctets = octets.Length > used ? octets.Slice(0, used) : octets;
        try
        {
            _source.Consume(used);
        }
        catch (FgException e) { throw Stamp(e); }
        _elementLength = used;
        _finished = _last;
        _source.ElementRead(used);
        // The label is a string: only made when there is something to report.
        if (_validation is { Count: > 0 }) _validation.StampRecord(0, Index, _grammar.Label(CurrentSpan()), _grammar.ElementNoun);
        return true;
    }

    private FgException Stamp(FgException e)
    {
        e.RecordIndex = Index;
        e.RecordNoun = _grammar.ElementNoun;
        // A failed discard has consumed the element's buffered octets already.
        e.RecordName ??= _grammar.Label(_elementInMemory || !_elementOctets.IsEmpty ? CurrentSpan() : _source.Available().Span);
        return e;
    }

    /// <summary>After the repeat ended: whether any octet follows it.</summary>
    public bool HasTrailingData() => !_source.AtEnd;

    /// <summary><see cref="HasTrailingData"/> for async callers.</summary>
    public async ValueTask<bool> HasTrailingDataAsync(CancellationToken cancellationToken = default)
        => !await _source.AtEndAsync(cancellationToken).ConfigureAwait(false);

    private void SetUp(bool prefix, bool build, long index)
    {
        _prefixing = prefix;
        _build = build;
        _index = index;
    }

    private int Parse(bool prefix, bool build, bool skipAhead, long index, out bool last)
    {
        SetUp(prefix, build, index);
        bool littleEndian = _prefixRead && _elementsLittleEndian;
        // Checking (not building) an element may skip the octets no rule reads.
        skipAhead = skipAhead && !build && !prefix;
        // FgSource.Parse, without its delegate: this runs for every element (about 5% faster over memory).
        while (true)
        {
            var reader = _source.ReaderAt(littleEndian, skipAhead);
            reader.ElementLimit = _maxElement;
            var element = ReadOne(ref reader);
            if (_source.Parsed(ref reader, _maxElement, out int length, out bool handedOff, out long want))
            {
                last = _last;
                Current = element;
                HandedOff = handedOff;
                return length;
            }
            _source.Fill(want, _maxElement);
        }
    }

    // What _readOne reads: set by Parse (a delegate made once, so reading an element allocates nothing).
    private bool _prefixing, _build, _last;
    private long _index;

    private TElement? ReadOne(ref FgReader reader)
    {
        if (!_prefixing) reader.SizeLimit = _maxField;
        int mark = _validation?.Count ?? 0;
        TElement? element = null;
        _last = false;
        if (_prefixing) _grammar.ReadPrefix(ref reader, _validation);
        else element = _grammar.ReadElement(ref reader, _validation, _build, _index, out _last);
        // A short read is read again over more octets: what it reported is reported then.
        if (reader.IsShort) _validation?.TruncateTo(mark);
        return element;
    }

    public void Dispose()
    {
        if (_ownsSource) _source.Dispose();
    }
}
