using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;
using LibxlRecord = FormatGen.Xen.Libxl.Record;
using LibxlRecordType = FormatGen.Xen.Libxl.RecordType;

namespace FormatGen.Xen;

/// <summary>The layer of a Xen image an item belongs to.</summary>
public enum XenLayer
{
    /// <summary>The xl save file header (with the domain configuration).</summary>
    Xl,
    /// <summary>The libxl stream: its header and records.</summary>
    Libxl,
    /// <summary>The libxc stream: its headers and records (inside LIBXC_CONTEXT when wrapped).</summary>
    Libxc,
}

/// <summary>What a <see cref="XenReader"/> item is.</summary>
public enum XenItemKind
{
    /// <summary>The xl header and its optional data (<see cref="XenReader.XlHeader"/>).</summary>
    XlHeader,
    /// <summary>The libxl stream header (<see cref="XenReader.LibxlHeader"/>).</summary>
    LibxlHeader,
    /// <summary>The libxc image and domain headers (<see cref="XenReader.Libxc"/>).</summary>
    LibxcHeader,
    /// <summary>A record of the libxl or the libxc layer.</summary>
    Record,
}

/// <summary>
/// Reads any Xen image (an xl save file, a libxl stream, a libxc stream) from
/// a file or a pipe in one pass, yielding the headers and records of every
/// layer in wire order, each tagged with its layer, nesting depth and
/// checkpoint round. The libxc layout rules apply inside LIBXC_CONTEXT and
/// the libxl rules outside it (<see cref="LibxlRules"/>). A checkpointed
/// (Remus/COLO) stream takes turns between the layers at each libxc
/// CHECKPOINT and libxl CHECKPOINT_END; <see cref="CompleteRounds"/> says how
/// many checkpoints a receiver could commit to.
/// </summary>
/// <remarks>
/// Memory stays flat: one record is held at a time, and an item (its model,
/// its octets) is valid until the next <see cref="MoveNext(bool)"/>. A structural
/// error throws <see cref="FgException"/> with the byte offset, the record and
/// (in <see cref="FgException.Context"/>) the layer and round; rule
/// violations are reported per item in <see cref="Violations"/>.
/// </remarks>
public sealed class XenReader : IDisposable
{
    private readonly FgSource _source;
    private readonly FgStreamOptions _options;
    private readonly List<FgViolation> _violations = new();
    private FgStreamReader<LibxlRecord>? _libxl;
    private Libxl.LibxlStreamGrammar? _libxlGrammar;
    private LibxcReader? _libxc;
    private LibxlRules? _rules;
    private State _state = State.Start;
    private long _libxcContextIndex = -1;   // the libxl record that carries the libxc stream

    private enum State { Start, LibxlHeader, LibxlRecords, LibxcHeader, LibxcRecords, RoundBoundary, Legacy, End, Done }

    /// <param name="input">A file or a pipe, read from its current position.</param>
    /// <param name="format">Read as this format (<see cref="ImageKind.Libxc"/>, <see cref="ImageKind.Libxl"/> or <see cref="ImageKind.XlSaveFile"/>) instead of detecting it.</param>
    /// <param name="options">Record limit, validation, mapping.</param>
    public XenReader(Stream input, ImageKind? format = null, FgStreamOptions? options = null)
        : this(new FgSource(input ?? throw new ArgumentNullException(nameof(input)), (options ?? new FgStreamOptions()).MapFiles), format, options)
    {
    }

    /// <summary>A reader over octets in memory (a <c>byte[]</c> converts to this), read in place.</summary>
    public XenReader(ReadOnlyMemory<byte> input, ImageKind? format = null, FgStreamOptions? options = null)
        : this(new FgSource(input), format, options)
    {
    }

    /// <summary>A reader over a <see cref="PipeReader"/> (a socket): its segments are read in place.</summary>
    public XenReader(PipeReader input, ImageKind? format = null, FgStreamOptions? options = null)
        : this(new FgSource(input ?? throw new ArgumentNullException(nameof(input))), format, options)
    {
    }

    // Takes the source: disposing the reader disposes it.
    private XenReader(FgSource source, ImageKind? format, FgStreamOptions? options)
    {
        if (format is not (null or ImageKind.Libxc or ImageKind.Libxl or ImageKind.XlSaveFile))
        {
            source.Dispose();
            throw new ArgumentException("a format to force is libxc, libxl or xl", nameof(format));
        }
        _options = options ?? new FgStreamOptions();
        _source = source;
        Head = _source.Peek(ImageDetector.PeekLength).ToArray();
        Detected = ImageDetector.Detect(Head);
        Format = format ?? Detected;
    }

    /// <summary>
    /// A reader over a <see cref="PipeReader"/> (a socket) for async callers: the first octets,
    /// which tell the format, are awaited here, where the constructor would wait for them.
    /// Read it with <see cref="MoveNextAsync"/> or <see cref="ReadAllAsync"/>.
    /// </summary>
    public static ValueTask<XenReader> OpenAsync(PipeReader input, ImageKind? format = null, FgStreamOptions? options = null, CancellationToken cancellationToken = default)
        => OpenAsync(new FgSource(input ?? throw new ArgumentNullException(nameof(input))), format, options, cancellationToken);

    /// <summary>
    /// A reader over a stream (a <c>NetworkStream</c>, a pipe) for async callers: see the
    /// <see cref="PipeReader"/> overload. A regular file is mapped, as by the constructor.
    /// </summary>
    public static ValueTask<XenReader> OpenAsync(Stream input, ImageKind? format = null, FgStreamOptions? options = null, CancellationToken cancellationToken = default)
        => OpenAsync(new FgSource(input ?? throw new ArgumentNullException(nameof(input)), (options ?? new FgStreamOptions()).MapFiles), format, options, cancellationToken);

    private static async ValueTask<XenReader> OpenAsync(FgSource source, ImageKind? format, FgStreamOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            await source.FillAsync(ImageDetector.PeekLength, ImageDetector.PeekLength, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        return new XenReader(source, format, options);
    }

    /// <summary>The first octets of the input (up to <see cref="ImageDetector.PeekLength"/>).</summary>
    public byte[] Head { get; }

    /// <summary>What the first octets show.</summary>
    public ImageKind Detected { get; }

    /// <summary>The format being read: forced, or <see cref="Detected"/>.</summary>
    public ImageKind Format { get; }

    /// <summary>The xl header, once read (its <c>Libxl</c> and <c>LegacyImage</c> are left to the layers that follow).</summary>
    public Xl.Xl? XlHeader { get; private set; }

    /// <summary>The libxl stream header, once read.</summary>
    public Libxl.Header? LibxlHeader => _libxlGrammar?.Header;

    /// <summary>The libxc layer, once its headers are read (<see cref="LibxcReader.ImageHeader"/>, <see cref="LibxcReader.DomainHeader"/>).</summary>
    public LibxcReader? Libxc => _libxc;

    /// <summary>The current item.</summary>
    public XenItemKind Kind { get; private set; }

    /// <summary>The layer of the current item.</summary>
    public XenLayer Layer { get; private set; }

    /// <summary>Nesting of the current item: 0 for the outermost layer, one more for each layer that wraps it.</summary>
    public int Depth { get; private set; }

    /// <summary>Index of the current record within its layer (libxc indices restart for each libxc stream); -1 for a header.</summary>
    public long Index { get; private set; } = -1;

    /// <summary>Absolute offset of the current item in the input.</summary>
    public long Offset { get; private set; }

    /// <summary>Length of the current item in octets (for LIBXC_CONTEXT: the record alone, not the stream after it).</summary>
    public long Length { get; private set; }

    /// <summary>The current record's type name, as Xen spells it (PAGE_DATA, LIBXC_CONTEXT), or the header's name.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The body length of the current record.</summary>
    public uint BodyLength { get; private set; }

    /// <summary>The current libxc record's type (when <see cref="Layer"/> is libxc and <see cref="Kind"/> a record).</summary>
    public RecordType LibxcType { get; private set; }

    /// <summary>The current libxl record's type (when <see cref="Layer"/> is libxl and <see cref="Kind"/> a record).</summary>
    public LibxlRecordType LibxlType { get; private set; }

    /// <summary>The current libxc record's model (read with build), else null.</summary>
    public Record? LibxcRecord => Kind == XenItemKind.Record && Layer == XenLayer.Libxc ? _libxc!.Current : null;

    /// <summary>The current libxl record's model (libxl records are always built: they are few and small).</summary>
    public LibxlRecord? LibxlRecord => Kind == XenItemKind.Record && Layer == XenLayer.Libxl ? _libxl!.Current : null;

    /// <summary>The current record's octets (header, body, padding).</summary>
    public ReadOnlySpan<byte> CurrentBytes => Kind != XenItemKind.Record ? default
        : Layer == XenLayer.Libxc ? _libxc!.CurrentBytes : _libxl!.ElementBytes;

    /// <summary>Rule violations of the current item; after <see cref="MoveNext(bool)"/> returns false, those of the end of the input.</summary>
    public IReadOnlyList<FgViolation> Violations => _violations;

    /// <summary>Absolute offset just past what has been read.</summary>
    public long Position => _source.Position;

    /// <summary>Whether the input is memory-mapped.</summary>
    public bool IsMapped => _source.IsMapped;

    /// <summary>The checkpoint round of the current item: 1 + the rounds completed before it.</summary>
    public int Round => CompleteRounds + 1;

    /// <summary>Whether the stream is checkpointed (a CHECKPOINT record was seen inside a libxl stream).</summary>
    public bool Checkpointed => _rules?.Checkpointed ?? false;

    /// <summary>Whether CHECKPOINT_STATE records follow the checkpoints (COLO).</summary>
    public bool Colo => _rules?.Colo ?? false;

    /// <summary>Checkpoints completed so far (each ends with CHECKPOINT_END): what a receiver commits to if the wire breaks now.</summary>
    public int CompleteRounds => _rules?.CompleteRounds ?? 0;

    /// <summary>Inside a checkpoint: after its libxc CHECKPOINT, before its CHECKPOINT_END.</summary>
    public bool InCheckpoint => _rules?.InCheckpoint ?? false;

    /// <summary>True once the outermost stream's END has been read.</summary>
    public bool Ended { get; private set; }

    /// <summary>True when the input ended right after a complete checkpoint, without END (a broken-off Remus/COLO stream a receiver resumes from).</summary>
    public bool EndedOnCheckpoint { get; private set; }

    /// <summary>Where the legacy image inside an xl save file begins (for convert-legacy), or -1.</summary>
    public long LegacyOffset { get; private set; } = -1;

    /// <summary>
    /// A legacy image's toolstack width and guest type as its first octets
    /// suggest (bare, or after an xl header), once the reader has met one; the
    /// reader then stops with error <c>legacy-image</c>: convert it first.
    /// </summary>
    public LegacyGuess? Legacy { get; private set; }

    private int LibxcDepth => Format == ImageKind.Libxc ? 0 : LibxlDepth + 1;
    private int LibxlDepth => Format == ImageKind.XlSaveFile ? 1 : 0;

    /// <summary>
    /// Reads the next item; false at the end of the outermost stream (then
    /// <see cref="Violations"/> holds what the end showed: data after END, a
    /// stream broken off after a complete checkpoint). <paramref name="build"/>:
    /// also build the libxc records' models.
    /// </summary>
    public bool MoveNext(bool build = true) => Next(build, null);

    /// <summary>
    /// Reads the next item, building the model of a libxc record only when
    /// <paramref name="build"/> asks for it by the record's type and body
    /// length (libxl records are always built). A record left unbuilt is still
    /// read whole: what is reported is what <see cref="MoveNext(bool)"/> with
    /// build reports.
    /// </summary>
    public bool MoveNext(Func<RecordType, uint, bool> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        return Next(true, build);
    }

    /// <summary>
    /// <see cref="MoveNext(bool)"/> for async callers (a socket, a <see cref="PipeReader"/>): waits
    /// for the input without blocking a thread. Each record is held whole. A canceled read leaves
    /// the reader where it was: the same item is read by the next call.
    /// </summary>
    public async ValueTask<bool> MoveNextAsync(bool build = true, CancellationToken cancellationToken = default)
    {
        _violations.Clear();
        try
        {
            return await StepAsync(build, cancellationToken).ConfigureAwait(false);
        }
        catch (FgException e)
        {
            e.Context ??= Where();
            throw;
        }
    }

    /// <summary>
    /// The items one at a time, for <c>await foreach</c>: yields this reader at each item (its
    /// <see cref="Kind"/>, <see cref="Layer"/>, <see cref="Violations"/> and the rest describe it, until the next).
    /// </summary>
    public async IAsyncEnumerable<XenReader> ReadAllAsync(bool build = true, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await MoveNextAsync(build, cancellationToken).ConfigureAwait(false)) yield return this;
    }

    private bool Next(bool build, Func<RecordType, uint, bool>? filter)
    {
        _violations.Clear();
        try
        {
            return Step(build, filter);
        }
        catch (FgException e)
        {
            e.Context ??= Where();
            throw;
        }
    }

    private bool Step(bool build, Func<RecordType, uint, bool>? filter)
    {
        switch (_state)
        {
            case State.Start:
                Refuse();
                if (Format == ImageKind.XlSaveFile) return ReadXl();
                if (Format == ImageKind.Libxl) return ReadLibxlHeader();
                return ReadLibxcHeader();
            case State.LibxlHeader:
                return ReadLibxlHeader();
            case State.LibxcHeader:
                return ReadLibxcHeader();
            case State.Legacy:
                throw LegacyError();
            case State.RoundBoundary:
                if (!RoundBoundary(_source.AtEnd)) return false;
                return _state == State.LibxlRecords ? ReadLibxlRecord() : ReadLibxcRecord(build, filter);
            case State.LibxlRecords:
                return ReadLibxlRecord();
            case State.LibxcRecords:
                return ReadLibxcRecord(build, filter);
            case State.End:
                return AfterEnd();
            default:
                return false;
        }
    }

    // Step, awaiting the input: each read here is the async twin of Step's, and what follows it is shared.
    private async ValueTask<bool> StepAsync(bool build, CancellationToken cancellationToken)
    {
        switch (_state)
        {
            case State.Start:
                Refuse();
                if (Format == ImageKind.XlSaveFile)
                {
                    var (_, length, _) = await _source.ParseAsync(static (ref FgReader r) => FormatGen.Xen.Xl.Xl.ReadCore(ref r, null, false), littleEndian: true, _options.MaxElementLength, cancellationToken).ConfigureAwait(false);
                    await _source.FillAsync(length + NextAfterXl, length + NextAfterXl, cancellationToken).ConfigureAwait(false);
                    return XlRead(length);
                }
                if (Format == ImageKind.Libxl) goto case State.LibxlHeader;
                goto case State.LibxcHeader;
            case State.LibxlHeader:
            {
                long at = _source.Position;
                var libxl = StartLibxl();
                await libxl.ReadPrefixAsync(cancellationToken).ConfigureAwait(false);
                return LibxlHeaderRead(at);
            }
            case State.LibxcHeader:
            {
                long at = _source.Position;
                var libxc = StartLibxc();
                await libxc.ReadHeadersAsync(cancellationToken).ConfigureAwait(false);
                return LibxcHeaderRead(at);
            }
            case State.Legacy:
                throw LegacyError();
            case State.RoundBoundary:
            {
                await _source.FillAsync(RecordHeaderLength, RecordHeaderLength, cancellationToken).ConfigureAwait(false);
                if (!RoundBoundary(await _source.AtEndAsync(cancellationToken).ConfigureAwait(false))) return false;
                return _state == State.LibxlRecords ? await ReadLibxlRecordAsync(cancellationToken).ConfigureAwait(false) : await ReadLibxcRecordAsync(build, cancellationToken).ConfigureAwait(false);
            }
            case State.LibxlRecords:
                return await ReadLibxlRecordAsync(cancellationToken).ConfigureAwait(false);
            case State.LibxcRecords:
                return await ReadLibxcRecordAsync(build, cancellationToken).ConfigureAwait(false);
            case State.End:
                await _source.FillAsync(TrailingSignatureLength, TrailingSignatureLength, cancellationToken).ConfigureAwait(false);
                return AfterEnd();
            default:
                return false;
        }
    }

    private const int RecordHeaderLength = 8;                 // what tells a COLO CHECKPOINT_STATE from libxc records
    private static ReadOnlySpan<byte> DeviceModelSignature => "DeviceModelRecord0002"u8;
    private const int TrailingSignatureLength = 21;           // DeviceModelSignature's length
    private const int NextAfterXl = 24;                       // what tells the layer after an xl header

    private FgException LegacyError() => FgException.Invalid("legacy-image", "(xl)", LegacyOffset,
        "the xl save file holds a legacy (pre-v2) libxc image from here (mandatory flag bit 1 clear"
        + (Legacy is { } g ? "; by its first octets, a " + g : "") + "): convert it to a version 3 stream with convert-legacy");

    // After a checkpoint: the wire may end here (what a Remus receiver commits to), COLO sends a
    // CHECKPOINT_STATE, otherwise the libxc stream resumes. False at the end; otherwise the state
    // says which layer's record is next (its first octets are at hand).
    private bool RoundBoundary(bool atEnd)
    {
        if (atEnd)
        {
            EndedOnCheckpoint = true;
            _state = State.Done;
            _violations.Add(new FgViolation("checkpoint-stream-broken-off", FgSeverity.Warning, "(end)", _source.Position,
                "END", "the end of the input",
                string.Create(CultureInfo.InvariantCulture, $"The checkpointed stream ends after checkpoint {CompleteRounds} without END; a receiver fails over to checkpoint {CompleteRounds}, which is complete.")));
            return false;
        }
        _state = IsCheckpointStateNext() ? State.LibxlRecords : State.LibxcRecords;
        return true;
    }

    // After the outermost END (what follows it at hand, or read now): data after it is a warning.
    private bool AfterEnd()
    {
        _state = State.Done;
        var next = _source.Peek(TrailingSignatureLength);
        if (!next.IsEmpty)
            _violations.Add(new FgViolation("trailing-data", FgSeverity.Warning, "(end)", _source.Position, "nothing after END", "more octets",
                next.SequenceEqual(DeviceModelSignature)
                    ? "A legacy device model record (qemu's state) follows the END record, as convert-legacy -f libxc leaves it for an HVM guest; libxl reads it after the libxc stream."
                    : "Data follows the END record."));
        return false;
    }

    /// <summary>Inputs no layer here reads: a clear error naming what they are.</summary>
    private void Refuse()
    {
        var head = Head.AsSpan();
        switch (Format)
        {
            case ImageKind.Unknown:
                throw FgException.Invalid("not-a-xen-image", "(input)", 0, head.Length == 0
                    ? "the input is empty"
                    : "the input ends after " + head.Length + " octet(s), too short for any Xen image: " + ImageDetector.Show(head));
            case ImageKind.NotXen:
                throw FgException.Invalid("not-a-xen-image", "(input)", 0,
                    "not a Xen image: it starts with " + ImageDetector.Show(head) + ", the start of no Xen format (libxc, libxl, xl, or a pre-v2 save)");
            case ImageKind.Legacy:
                ImageDetector.TryGuessLegacy(head, out var guess);
                Legacy = guess;
                LegacyOffset = 0;
                throw FgException.Invalid("legacy-image", "(input)", 0,
                    "a legacy (pre-v2) libxc image (by its first octets, a " + guess + "): convert it to a version 3 stream with convert-legacy");
        }
    }

    private bool ReadXl()
    {
        _source.Parse(static (ref FgReader r) => FormatGen.Xen.Xl.Xl.ReadCore(ref r, null, false), littleEndian: true, _options.MaxElementLength, skipAhead: false, out int length, out _);
        return XlRead(length);
    }

    // The xl header is at hand, `length` octets.
    private bool XlRead(int length)
    {
        var validation = _options.Validate ? new FgValidation() : null;
        // The header is kept for the whole reading (its model slices the octets it was read from):
        // it is read from a copy, not from the source's buffer or mapping, which move on.
        var octets = _source.Peek(length).ToArray();
        var reader = new FgReader(octets.AsMemory(), littleEndian: true, baseOffset: _source.Position) { StopAtHandoff = true };
        XlHeader = FormatGen.Xen.Xl.Xl.ReadCore(ref reader, validation, true)!;
        _source.Consume(length);
        if (validation is not null) _violations.AddRange(validation.Violations);
        Set(XenItemKind.XlHeader, XenLayer.Xl, 0, -1, 0, _source.Position, "XL_HEADER");
        if (XlHeader.Header.StreamV2) _state = State.LibxlHeader;
        else
        {
            var next = _source.Peek(NextAfterXl);
            if (next.Length >= 8 && ImageDetector.Detect(next) == ImageKind.Libxc)
            {
                // What convert-legacy -f libxc makes of an xl save file: the header as it was, a libxc stream after it.
                _violations.Add(new FgViolation("xl-legacy-flag-libxc", FgSeverity.Warning, "(xl)", _source.Position,
                    "a legacy image (mandatory flag bit 1 clear)", "a libxc stream",
                    "The xl header says a legacy image follows, but a libxc stream does (convert-legacy -f libxc of an xl save file); xl restores a libxl stream: convert with -f libxl for xl."));
                _state = State.LibxcHeader;
                return true;
            }
            LegacyOffset = _source.Position;
            if (ImageDetector.TryGuessLegacy(next, out var guess)) Legacy = guess;
            _state = State.Legacy;
        }
        return true;
    }

    private bool ReadLibxlHeader()
    {
        long at = _source.Position;
        StartLibxl().ReadPrefix();
        return LibxlHeaderRead(at);
    }

    private FgStreamReader<LibxlRecord> StartLibxl()
    {
        _libxlGrammar = new Libxl.LibxlStreamGrammar();
        return _libxl = new FgStreamReader<LibxlRecord>(_source, _libxlGrammar, _options);
    }

    // The libxl header, from `at`, has been read.
    private bool LibxlHeaderRead(long at)
    {
        if (_libxl!.Validation is { } v)
        {
            // A stream that is not libxl, or of another version, cannot be read any further.
            foreach (var x in v.Violations)
                if (x.Rule is "libxl-ident" or "libxl-version")
                    throw FgException.Of(x);
            _violations.AddRange(v.Violations);
        }
        _rules = new LibxlRules();
        Set(XenItemKind.LibxlHeader, XenLayer.Libxl, LibxlDepth, -1, at, _source.Position - at, "LIBXL_HEADER");
        _state = State.LibxlRecords;
        return true;
    }

    private bool ReadLibxcHeader()
    {
        long at = _source.Position;
        StartLibxc().ReadHeaders();
        return LibxcHeaderRead(at);
    }

    private LibxcReader StartLibxc()
    {
        _libxc?.Dispose();
        return _libxc = new LibxcReader(_source, _options, checkpointed: _rules is not null);
    }

    // The libxc headers, from `at`, have been read.
    private bool LibxcHeaderRead(long at)
    {
        _violations.AddRange(_libxc!.Violations);
        Set(XenItemKind.LibxcHeader, XenLayer.Libxc, LibxcDepth, -1, at, _source.Position - at, "LIBXC_HEADER");
        _rules?.LibxcStarted(_libxc.DomainHeader.Type);
        _state = State.LibxcRecords;
        return true;
    }

    // After END the state is End: the libxl stream is never read past it.
    private bool ReadLibxlRecord() => _libxl!.MoveNext(build: true) ? LibxlRecordRead() : throw PastEnd("libxl");

    private async ValueTask<bool> ReadLibxlRecordAsync(CancellationToken cancellationToken)
        => await _libxl!.MoveNextAsync(build: true, cancellationToken).ConfigureAwait(false) ? LibxlRecordRead() : throw PastEnd("libxl");

    private static InvalidOperationException PastEnd(string layer) => new("The " + layer + " stream was read past its END.");

    private bool LibxlRecordRead()
    {
        var bytes = _libxl!.ElementBytes;
        bool le = _libxlGrammar!.ElementsLittleEndian;
        LibxlType = LibxlRecord.PeekType(bytes, le);
        if (_libxl.Validation is { Count: > 0 } v) _violations.AddRange(v.Violations);
        Set(XenItemKind.Record, XenLayer.Libxl, LibxlDepth, _libxl.Index, _libxl.ElementOffset, _libxl.ElementLength, RecordNames.Of(LibxlType), LibxlRecord.PeekBodyLength(bytes, le));
        var next = _rules!.Observe(_libxl.Current, LibxlType, _libxl.Index, _libxl.ElementOffset, "libxl " + Name, _violations);
        if (_libxl.HandedOff)
        {
            _libxcContextIndex = _libxl.Index;
            _state = State.LibxcHeader;
        }
        else if (_libxl.Finished) { Ended = true; _state = State.End; }
        // The rules say libxc comes next only after a checkpoint of a libxc stream that has not ended.
        else _state = next == LibxlRules.Next.Libxc ? State.RoundBoundary : State.LibxlRecords;
        return true;
    }

    // After its END the state moves on: the libxc stream is never read past it.
    private bool ReadLibxcRecord(bool build, Func<RecordType, uint, bool>? filter)
        => (filter is null ? _libxc!.MoveNext(build) : _libxc!.MoveNext(filter)) ? LibxcRecordRead() : throw PastEnd("libxc");

    private async ValueTask<bool> ReadLibxcRecordAsync(bool build, CancellationToken cancellationToken)
        => await _libxc!.MoveNextAsync(build, cancellationToken).ConfigureAwait(false) ? LibxcRecordRead() : throw PastEnd("libxc");

    private bool LibxcRecordRead()
    {
        LibxcType = _libxc!.Type;
        if (_libxc.Violations.Count > 0) _violations.AddRange(_libxc.Violations);
        Set(XenItemKind.Record, XenLayer.Libxc, LibxcDepth, _libxc.Index, _libxc.Offset, _libxc.Length, RecordNames.Of(LibxcType), _libxc.BodyLength);
        if (_libxc.Finished)
        {
            if (_rules is null) { Ended = true; _state = State.End; }
            else { _rules.LibxcEnded(); _state = State.LibxlRecords; }
        }
        else if (LibxcType == RecordType.Checkpoint && _rules is not null)
        {
            _rules.CheckpointStarted();
            _state = State.LibxlRecords;
        }
        return true;
    }

    /// <summary>After CHECKPOINT_END: whether a libxl CHECKPOINT_STATE record (COLO) comes next rather than libxc records.</summary>
    private bool IsCheckpointStateNext()
    {
        var next = _source.Peek(8);
        if (next.Length < 8) return false;
        // A libxl CHECKPOINT_STATE header (type 5, 4-octet body); no libxc record of type 5 is that short.
        var type = LibxlRecord.PeekType(next, _libxlGrammar!.ElementsLittleEndian);
        return type == LibxlRecordType.CheckpointState && LibxlRecord.PeekBodyLength(next, _libxlGrammar.ElementsLittleEndian) == 4;
    }

    private void Set(XenItemKind kind, XenLayer layer, int depth, long index, long offset, long length, string name, uint bodyLength = 0)
    {
        Kind = kind;
        Layer = layer;
        Depth = depth;
        Index = index;
        Offset = offset;
        Length = length;
        Name = name;
        BodyLength = bodyLength;
    }

    /// <summary>Where the reader was, for an error's context: the layer, and in a checkpointed stream the round.</summary>
    private string? Where()
    {
        string? layer = null;
        if (_rules is not null && _state is State.LibxcHeader or State.LibxcRecords or State.RoundBoundary)
            layer = string.Create(CultureInfo.InvariantCulture, $"in the libxc stream that libxl record {_libxcContextIndex} (LIBXC_CONTEXT) carries");
        else if (_state == State.LibxlRecords) layer = "in the libxl stream";
        if (!Checkpointed) return layer;
        var round = CompleteRounds == 0
            ? "inside checkpoint 1: no checkpoint is complete, so a receiver has nothing to fail over to"
            : string.Create(CultureInfo.InvariantCulture, $"inside checkpoint {CompleteRounds + 1}; checkpoints 1-{CompleteRounds} are complete (a receiver fails over to checkpoint {CompleteRounds})");
        return layer is null ? round : layer + ", " + round;
    }

    public void Dispose()
    {
        _libxc?.Dispose();
        _libxl?.Dispose();
        _source.Dispose();
    }
}
