using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>
/// Reads a libxc stream record by record from any stream (files, pipes,
/// stdin), checking every grammar rule and the layout rules as it goes.
/// Memory stays flat: one record is held at a time.
/// </summary>
/// <remarks>
/// A record (its model and page data slices) is valid until the next call to
/// <see cref="MoveNext(bool)"/>. Structural errors throw <see cref="FgException"/>
/// with the record index, field path and byte offset.
/// </remarks>
public sealed class LibxcReader : IDisposable
{
    private readonly FgStreamReader<Record> _reader;
    private readonly LibxcStreamGrammar _grammar = new();
    private readonly FgValidation _layout = new();
    private readonly List<FgViolation> _violations = new();
    private readonly bool _checkpointed;
    private LayoutRules? _rules;
    private readonly FgSource? _ownedSource;

    /// <param name="input">
    /// Read from its position: a regular file is mapped in windows, a <see cref="MemoryStream"/>
    /// is read in place from its buffer, a stream that can seek is never read to skip.
    /// </param>
    /// <param name="options">Record limit, validation, mapping.</param>
    public LibxcReader(Stream input, FgStreamOptions? options = null)
    {
        _reader = new FgStreamReader<Record>(input, _grammar, options);
    }

    /// <summary>A reader over octets in memory (a <c>byte[]</c> converts to this), read in place.</summary>
    public LibxcReader(ReadOnlyMemory<byte> input, FgStreamOptions? options = null)
        : this(new FgSource(input), options, checkpointed: false, ownsSource: true)
    {
    }

    /// <summary>
    /// A reader over a <see cref="PipeReader"/> (a socket): its segments are read in place,
    /// only a record that straddles two is joined. Use <see cref="MoveNextAsync"/> or
    /// <see cref="ReadAllAsync"/> not to block a thread while the pipe waits.
    /// </summary>
    public LibxcReader(PipeReader input, FgStreamOptions? options = null)
        : this(new FgSource(input), options, checkpointed: false, ownsSource: true)
    {
    }

    private LibxcReader(FgSource source, FgStreamOptions? options, bool checkpointed, bool ownsSource)
    {
        _reader = new FgStreamReader<Record>(source, _grammar, options);
        _checkpointed = checkpointed;
        _ownedSource = ownsSource ? source : null;
    }

    /// <summary>
    /// A reader taking the libxc stream from <paramref name="source"/> at its
    /// position, in turn with other readers of the same wire (the libxl
    /// stream that carries it). <paramref name="checkpointed"/>: CHECKPOINT
    /// records end rounds of a Remus/COLO stream rather than being misplaced.
    /// </summary>
    public LibxcReader(FgSource source, FgStreamOptions? options = null, bool checkpointed = false)
        : this(source, options, checkpointed, ownsSource: false)
    {
    }

    /// <summary>The image header (after <see cref="ReadHeaders"/>).</summary>
    public ImageHeader ImageHeader => _grammar.ImageHeader;

    /// <summary>The domain header (after <see cref="ReadHeaders"/>).</summary>
    public DomainHeader DomainHeader => _grammar.DomainHeader;

    public bool LittleEndian => _grammar.ElementsLittleEndian;

    /// <summary>A PV guest's width in octets (8 or 4) as X86_PV_INFO gave it; 0 before it, and for HVM.</summary>
    public int GuestWidth => _rules?.GuestWidth ?? 0;

    /// <summary>Whether <see cref="ReadHeaders"/> has succeeded.</summary>
    public bool HeadersRead => _rules is not null;

    /// <summary>Violations of the last step (headers or one record), grammar and layout rules together.</summary>
    public IReadOnlyList<FgViolation> Violations => _violations;

    public long Index => _reader.Index;
    public long Offset => _reader.ElementOffset;
    public int Length => _reader.ElementLength;
    public long Position => _reader.Position;
    public bool IsMapped => _reader.IsMapped;

    /// <summary>The type of the current record, read from its octets.</summary>
    public RecordType Type { get; private set; }

    /// <summary>The body length of the current record, read from its octets.</summary>
    public uint BodyLength { get; private set; }

    /// <summary>The current record's model (when read with build), else null.</summary>
    public Record? Current => _reader.Current;

    /// <summary>The current record's octets (header, body and padding).</summary>
    public ReadOnlySpan<byte> CurrentBytes => _reader.ElementBytes;

    /// <summary>True once END has been read.</summary>
    public bool Finished => _reader.Finished;

    /// <summary>
    /// Reads the image and domain headers. An image header that is not a
    /// libxc one (marker, id) or of a version this reader does not know
    /// throws <see cref="FgException"/>: nothing after it can be read.
    /// </summary>
    public void ReadHeaders()
    {
        _violations.Clear();
        _reader.ReadPrefix();
        HeadersDone();
    }

    /// <summary><see cref="ReadHeaders"/> for async callers: waits for the input without blocking a thread.</summary>
    public async ValueTask ReadHeadersAsync(CancellationToken cancellationToken = default)
    {
        _violations.Clear();
        await _reader.ReadPrefixAsync(cancellationToken).ConfigureAwait(false);
        HeadersDone();
    }

    private void HeadersDone()
    {
        if (_reader.Validation is { } v)
        {
            foreach (var x in v.Violations)
                if (x.Rule is "image-marker" or "image-id" or "image-version")
                    throw FgException.Of(x);
            _violations.AddRange(v.Violations);
        }
        _rules = new LayoutRules(DomainHeader.Type, ImageHeader.Version, DomainHeader.PageShift, LittleEndian, _checkpointed);
    }

    /// <summary>Reads the next record; false after END. <paramref name="build"/>: also build its model.</summary>
    public bool MoveNext(bool build = true)
    {
        if (_rules is null) ReadHeaders();
        return Next(build, skipAhead: true);
    }

    /// <summary>
    /// Reads the next record, building its model only when <paramref name="build"/>
    /// asks for it by the record's type and body length (read from its header
    /// first); false after END. A record left unbuilt is still read whole, so
    /// what is reported (violations, errors, <see cref="CurrentBytes"/>) is
    /// what <see cref="MoveNext(bool)"/> with build reports.
    /// </summary>
    public bool MoveNext(Func<RecordType, uint, bool> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (_rules is null) ReadHeaders();
        bool model = true;
        if (!_reader.Finished)
        {
            var header = _reader.Source.Peek(Record.Layout.BodyOffset);
            if (header.Length == Record.Layout.BodyOffset) model = build(Record.PeekType(header, LittleEndian), Record.PeekBodyLength(header, LittleEndian));
        }
        return Next(model, skipAhead: false);
    }

    private bool Next(bool build, bool skipAhead)
    {
        if (_violations.Count > 0) _violations.Clear();
        // A check passes over octets no rule reads, but the layout rules read the vCPU state
        // (HVM_CONTEXT, a PV vcpu's context) whole: those records are held, from a pipe too.
        if (skipAhead && !build && !_reader.Finished && !_reader.Source.IsInMemory && !_reader.Source.IsMapped)
        {
            var header = _reader.Source.Peek(Record.Layout.BodyOffset);
            if (header.Length == Record.Layout.BodyOffset && Record.PeekType(header, LittleEndian) is RecordType.HvmContext or RecordType.X86PvVcpuBasic
                && Record.PeekBodyLength(header, LittleEndian) <= LayoutRules.MaxVcpuState)
                skipAhead = false;
        }
        return _reader.MoveNext(build, skipAhead) && Observed();
    }

    /// <summary>
    /// <see cref="MoveNext(bool)"/> for async callers: waits for the input without
    /// blocking a thread. Each record is held whole (a check skips nothing ahead).
    /// </summary>
    public async ValueTask<bool> MoveNextAsync(bool build = true, CancellationToken cancellationToken = default)
    {
        if (_rules is null) await ReadHeadersAsync(cancellationToken).ConfigureAwait(false);
        _violations.Clear();
        return await _reader.MoveNextAsync(build, cancellationToken).ConfigureAwait(false) && Observed();
    }

    /// <summary>
    /// The records one at a time, for <c>await foreach</c>, with the headers read first.
    /// Each record, and <see cref="Violations"/> for it, is valid until the next is read.
    /// </summary>
    public async IAsyncEnumerable<Record> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await MoveNextAsync(build: true, cancellationToken).ConfigureAwait(false)) yield return Current!;
    }

    // The layout rules see the record just read.
    private bool Observed()
    {
        var bytes = _reader.ElementBytes;
        Type = Record.PeekType(bytes, LittleEndian);
        BodyLength = Record.PeekBodyLength(bytes, LittleEndian);
        if (_reader.Validation is { Count: > 0 } v) _violations.AddRange(v.Violations);
        _layout.Clear();
        _rules!.Observe(bytes, Type, BodyLength, Index, Offset, _layout);
        if (_reader.Finished) _rules.Finish(Index, Offset, _layout);
        if (_layout.Count > 0) _violations.AddRange(_layout.Violations);
        return true;
    }

    /// <summary>After END: whether octets follow it.</summary>
    public bool HasTrailingData() => _reader.HasTrailingData();

    /// <summary><see cref="HasTrailingData"/> for async callers.</summary>
    public ValueTask<bool> HasTrailingDataAsync(CancellationToken cancellationToken = default) => _reader.HasTrailingDataAsync(cancellationToken);

    public void Dispose()
    {
        _reader.Dispose();
        _ownedSource?.Dispose();
    }
}
