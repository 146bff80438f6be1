using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Pipelines;
using System.Text;
using System.Threading;
using FormatGen.Runtime;
using FormatGen.Xen.Legacy;
using FormatGen.Xen.Libxc;
using LegacyChunk = FormatGen.Xen.Legacy.Chunk;
using LibxlRecord = FormatGen.Xen.Libxl.Record;
using LibxlRecordType = FormatGen.Xen.Libxl.RecordType;

namespace FormatGen.Xen;

/// <summary>The stream <see cref="LegacyConverter"/> writes.</summary>
public enum LegacyOutputFormat
{
    /// <summary>A version 3 libxc stream (an HVM guest's device model record follows its END, as the legacy image had it).</summary>
    Libxc,
    /// <summary>A libxl stream carrying the libxc stream, the emulator's xenstore data and its state.</summary>
    Libxl,
}

/// <summary>How to read a legacy image and what to write (the flags of convert-legacy).</summary>
public sealed record LegacyOptions
{
    /// <summary>The saving toolstack's word size, 32 or 64 (-w); null: tell from the image.</summary>
    public int? ToolstackBits { get; init; }

    /// <summary>The guest type (-g); null: tell from the image.</summary>
    public GuestKind? Guest { get; init; }

    /// <summary>The stream to write (-f).</summary>
    public LegacyOutputFormat Format { get; init; } = LegacyOutputFormat.Libxc;

    /// <summary>An xl header comes first (-x): true requires one; null: take one if it is there.</summary>
    public bool? XlHeader { get; init; }

    /// <summary>Leave out an HVM guest's device model record (libxc output only, as Xen's converter does).</summary>
    public bool SkipQemu { get; init; }

    /// <summary>Where the lines of a verbose summary go (-v), or null.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>What a conversion read and wrote.</summary>
public sealed record LegacyReport
{
    public bool XlHeader { get; init; }
    public int ToolstackBits { get; init; }
    public GuestKind Guest { get; init; }
    public ulong P2mSize { get; init; }
    /// <summary>PV: the guest's own width in octets (4 or 8).</summary>
    public int GuestWidth { get; init; }
    public long Batches { get; init; }
    public long Pages { get; init; }
    /// <summary>Page batches that held only padding entries and were left out.</summary>
    public long EmptyBatches { get; init; }
    public IReadOnlyList<int> OnlineVcpus { get; init; } = Array.Empty<int>();
    public long OutputLength { get; init; }
    /// <summary>Octets after the legacy image that were not converted (a legacy Remus stream's later checkpoints).</summary>
    public bool TrailingData { get; init; }
    public IReadOnlyList<FgViolation> Warnings { get; init; } = Array.Empty<FgViolation>();
}

/// <summary>
/// Translates a legacy (Xen 4.5 and earlier) image into a version 3 libxc
/// stream, or a libxl stream around one, exactly as Xen's own converter
/// (tools/python/scripts/convert-legacy-stream) does, in one pass with flat
/// memory: one chunk is held at a time, and page contents go from the input
/// to the output without being parsed (inside the kernel when both are
/// regular files). The output is verified as it is written by the same
/// reader <c>verify</c> uses: a conversion whose result that reader would
/// reject stops with an error. See docs/legacy.md.
/// </summary>
public sealed class LegacyConverter
{
    private const int PageSize = 4096;
    private const int MaxChunk = 128 << 20;

    private readonly FgSource _source;
    private readonly FgOutput _out;
    private readonly LegacyOptions _o;
    private readonly LegacyFeed _feed;
    private readonly LegacyTee _tee;
    private readonly IEnumerator<bool> _steps;
    private readonly CancellationToken _cancel;

    private int _bits;
    private bool _pv;
    private bool _xl;
    private ulong _p2mSize;
    private int _guestWidth;
    private long _batches, _pages, _emptyBatches;
    private bool _trailing;
    private readonly List<int> _online = new();
    private readonly List<FgViolation> _warnings = new();
    private long _outputVerified;

    private LegacyConverter(FgSource input, Stream output, LegacyOptions options, CancellationToken cancel)
    {
        _o = options;
        _cancel = cancel;
        _source = input;
        _out = new FgOutput(output);
        _feed = new LegacyFeed(Step);
        _tee = new LegacyTee(_out, _feed);
        _steps = Steps().GetEnumerator();
    }

    /// <summary>
    /// Converts <paramref name="input"/> (read from its position) into
    /// <paramref name="output"/>. Errors in the input, and a result the
    /// verifier rejects, throw <see cref="FgException"/> with the input offset;
    /// the output then holds a partial stream, for the caller to discard.
    /// </summary>
    public static LegacyReport Convert(Stream input, Stream output, LegacyOptions? options = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        // Not mapped: the pages of a mapped file would count in resident memory as they are copied. From a
        // regular file, pages move file to file (FgSource.CopyTo), so the buffer reads little ahead of the chunks.
        return Convert(new FgSource(input, mapFiles: false, readSize: input is FileStream { CanSeek: true } ? 32 << 10 : 256 << 10), output, options, cancel);
    }

    /// <summary><see cref="Convert(Stream, Stream, LegacyOptions?, CancellationToken)"/> of octets in memory, read in place.</summary>
    public static LegacyReport Convert(ReadOnlyMemory<byte> input, Stream output, LegacyOptions? options = null, CancellationToken cancel = default)
        => Convert(new FgSource(input), output ?? throw new ArgumentNullException(nameof(output)), options, cancel);

    /// <summary><see cref="Convert(Stream, Stream, LegacyOptions?, CancellationToken)"/> from a <see cref="PipeReader"/>, its segments read in place.</summary>
    public static LegacyReport Convert(PipeReader input, Stream output, LegacyOptions? options = null, CancellationToken cancel = default)
        => Convert(new FgSource(input ?? throw new ArgumentNullException(nameof(input))), output ?? throw new ArgumentNullException(nameof(output)), options, cancel);

    // Takes the source: it is disposed when the conversion ends.
    private static LegacyReport Convert(FgSource input, Stream output, LegacyOptions? options, CancellationToken cancel)
    {
        var c = new LegacyConverter(input, output, options ?? new LegacyOptions(), cancel);
        bool done = false;
        try
        {
            var report = c.Run();
            c._out.Dispose(); // leaves a file stream's position after the stream
            done = true;
            return report;
        }
        finally
        {
            c._source.Dispose();
            if (!done)
            {
                try { c._out.Dispose(); }
                catch (IOException) { } // the error being thrown is the one to report
            }
        }
    }

    private LegacyReport Run()
    {
        // The verifier pulls the converted stream; each pull runs the converter a step further.
        var format = _o.Format == LegacyOutputFormat.Libxc ? ImageKind.Libxc : ImageKind.Libxl;
        // The xl header and the legacy image's first octets are read before the verifier starts.
        Begin();
        try
        {
            using var verifier = new XenReader(_feed, _xl ? ImageKind.XlSaveFile : format, new FgStreamOptions { MapFiles = false });
            while (verifier.MoveNext(build: false))
            {
                foreach (var v in verifier.Violations)
                {
                    if (v.Severity == FgSeverity.Error) throw Invalid(v, verifier);
                    _warnings.Add(v);
                }
            }
            foreach (var v in verifier.Violations)
                if (v.Severity == FgSeverity.Error) throw Invalid(v, verifier);
            // The verifier stops at its END; the converter may have more to write (the legacy device model record).
            while (Step()) { }
            _outputVerified = _feed.Taken;
        }
        catch (InputError e)
        {
            throw e.Error;
        }
        catch (FgException e)
        {
            // The verifier's own structural error (a record over its limit, ...): of the converted stream.
            throw OutputInvalid(e.FieldPath, string.Create(CultureInfo.InvariantCulture, $"at its octet {e.Offset}, {e.DetailInContext}"));
        }
        _out.Flush();
        // What follows the image (a legacy Remus stream's later checkpoints) is not converted, as by Xen's converter.
        // Said only when known without waiting: a sender may wait for the receiver once the image is through.
        // An HVM image's device model record, left out by --skip-qemu, is not "more".
        if (!(!_pv && _libxl is null && _o.SkipQemu)) _trailing = _source.MoreWithoutWaiting() == true;
        if (_trailing)
            Log(string.Create(CultureInfo.InvariantCulture, $"Not converted: the input goes on after the image, from its octet {_source.Position} (a legacy Remus stream's later checkpoints; Xen's converter stops here too)"));
        var report = new LegacyReport
        {
            XlHeader = _xl,
            ToolstackBits = _bits,
            Guest = _pv ? GuestKind.Pv : GuestKind.Hvm,
            P2mSize = _p2mSize,
            GuestWidth = _guestWidth,
            Batches = _batches,
            Pages = _pages,
            EmptyBatches = _emptyBatches,
            OnlineVcpus = _online.ToArray(),
            OutputLength = _out.Position,
            TrailingData = _trailing,
            Warnings = _warnings.ToArray(),
        };
        Log(string.Create(CultureInfo.InvariantCulture,
            $"Read: {(_xl ? "an xl header, " : "")}{(_pv ? "PV" : "HVM")} guest{(_pv ? $" ({_guestWidth * 8}-bit)" : "")} from a {_bits}-bit toolstack, p2m_size {Hex(_p2mSize)}, {_batches} page batches of {_pages} pages{(_emptyBatches > 0 ? $" ({_emptyBatches} of padding alone, left out)" : "")}, vcpus online: {(_online.Count == 0 ? "none" : string.Join(",", _online))}{(_trailing ? "; more input after the image, not converted" : "")}"));
        Log(string.Create(CultureInfo.InvariantCulture,
            $"Wrote a {(_o.Format == LegacyOutputFormat.Libxl ? "libxl" : "libxc")} stream of {_out.Position} octets ({_outputVerified} verified as written; {_out.CopiedDirectly} copied file to file in the kernel)"));
        return report;
    }

    private FgException Invalid(FgViolation v, XenReader verifier)
        => OutputInvalid(v.FieldPath, string.Create(CultureInfo.InvariantCulture, $"at its octet {v.Offset} ({verifier.Name}), {v.Explanation}"));

    /// <summary>Error legacy-output-invalid: what in the converted stream breaks a rule, and how far the input was read.</summary>
    private FgException OutputInvalid(string field, string what)
        => FgException.Invalid("legacy-output-invalid", field, _source.Position, string.Create(CultureInfo.InvariantCulture,
            $"the converted stream would be invalid, so nothing is written: {what}; converting the legacy image up to its octet {_source.Position}"));

    /// <summary>An error of the input, carried through the verifier's read untouched.</summary>
    private sealed class InputError : Exception
    {
        public InputError(FgException e) : base(e.Message, e) => Error = e;
        public FgException Error { get; }
    }

    private bool Step()
    {
        _cancel.ThrowIfCancellationRequested();
        try
        {
            return _steps.MoveNext();
        }
        catch (FgException e)
        {
            throw new InputError(e);
        }
        catch (Exception e) when (e is FgInvalidModelException or FgWriteException)
        {
            // A record the input leads to that the libxc or libxl grammar refuses (a TSC mode, an empty HVM context, ...).
            throw new InputError(OutputInvalid("(converted record)", e.Message));
        }
    }

    private void Log(string line) => _o.Log?.Invoke(line);

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- start

    private static ReadOnlySpan<byte> XlMagic => "Xen saved domain, xl format\n \0 \r"u8;

    private byte[]? _xlHeader;

    /// <summary>The xl header (kept to be written first), then what kind of legacy image follows.</summary>
    private void Begin()
    {
        var head = _source.Peek(XlMagic.Length);
        bool hasXl = head.SequenceEqual(XlMagic);
        if (_o.XlHeader == true && !hasXl)
            throw FgException.Invalid("legacy-no-xl-header", "(xl)", 0, "no xl header (-x was given): the input starts with " + ImageDetector.Show(head));
        if (hasXl) ReadXlHeader();
        DetectImage();
    }

    private void ReadXlHeader()
    {
        _xl = true;
        var validation = new FgValidation();
        long at = _source.Position;
        var xl = _source.Parse((ref FgReader r) => Xl.Xl.ReadCore(ref r, validation, true)!, littleEndian: true, MaxChunk, skipAhead: false, out int length, out _);
        foreach (var v in validation.Violations)
            if (v.Severity == FgSeverity.Error) throw FgException.Of(v);
        if (xl.Header.StreamV2)
            throw FgException.Invalid("legacy-not-legacy", "(xl)", at, "the xl save file holds a libxl (v2) stream, not a legacy image (its mandatory flag bit 1 is set): nothing to convert; verify reads it as it is");
        // Copied octet for octet, with the flag that says a libxl stream follows set for a libxl output, as Xen's
        // converter does (it reads and writes the flags in the host's order: little-endian).
        var header = _source.Peek(length).ToArray();
        _source.Consume(length);
        if (_o.Format == LegacyOutputFormat.Libxl) header[Xl.Xl.Layout.HeaderOffset + Xl.Header.Layout.MandatoryFlagsOffset] |= 2;
        _xlHeader = header;
        Log("Processed the xl header (" + length + " octets)");
    }

    private void DetectImage()
    {
        long at = _source.Position;
        var head = _source.Peek(24).ToArray();
        bool guessed = ImageDetector.TryGuessLegacy(head, out var guess);
        if (!guessed && (_o.ToolstackBits is null || _o.Guest is null))
        {
            var kind = ImageDetector.Detect(head);
            throw FgException.Invalid("legacy-not-legacy", "(input)", at, kind is ImageKind.Libxc or ImageKind.Libxl or ImageKind.XlSaveFile
                ? "this is a " + ImageDetector.Describe(kind) + ", not a legacy image: nothing to convert; verify reads it as it is"
                : "not a legacy image: it starts with " + ImageDetector.Show(head) + ", which no Xen 4.5 or earlier save begins with (give -w and -g to convert it anyway)");
        }
        _bits = _o.ToolstackBits ?? guess.ToolstackBits;
        _pv = _o.Guest is { } g ? g == GuestKind.Pv : guess.Pv;
        if (_bits is not (32 or 64)) throw new ArgumentException("the toolstack width is 32 or 64", nameof(LegacyOptions.ToolstackBits));

        // A forced value that the image contradicts would be a silent misread: refuse it.
        if (head.Length >= 8)
        {
            bool highZero = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4)) == 0;
            if (_bits == 64 && !highZero)
                throw Contradiction(at + 4, "-w 64", "octets 4-7 are not zero: a 64-bit toolstack puts the upper half of p2m_size there, which would make the guest larger than 16 TiB; this image was written by a 32-bit toolstack (-w 32)");
            if (_bits == 32 && highZero)
                throw Contradiction(at + 4, "-w 32", _pv
                    ? "octets 4-7 are zero, where a 32-bit toolstack's PV image has its extended-info marker (all ones); this image was written by a 64-bit toolstack (-w 64)"
                    : "octets 4-7 are zero, which for a 32-bit toolstack would be the END chunk right after p2m_size (an image without a single page or vcpu); this image was written by a 64-bit toolstack (-w 64)");
        }
        int word = _bits / 8;
        bool marker = head.Length >= 2 * word && head.AsSpan(word, word).IndexOfAnyExcept((byte)0xff) < 0;
        // All ones there could also be an HVM image's ENABLE_VERIFY_MODE chunks (-1); extended info goes on with a block.
        bool extendedInfo = marker && head.Length >= 2 * word + 8 && ImageDetector.IsBlockId(head.AsSpan(2 * word + 4, 4));
        if (_pv && !marker && head.Length >= 2 * word)
            throw Contradiction(at + word, "-g pv", "a PV image has its extended-info marker (all ones) after p2m_size, and this one has " + ImageDetector.Show(head.AsSpan(word, word)) + ": it is an HVM image (-g hvm)");
        if (!_pv && extendedInfo)
            throw Contradiction(at + word, "-g hvm", "the PV extended-info marker (all ones) and its first block follow p2m_size: this is a PV image (-g pv)");
        Log(string.Create(CultureInfo.InvariantCulture,
            $"Legacy image: {(_pv ? "PV" : "HVM")} guest, {_bits}-bit toolstack ({(_o.ToolstackBits is null ? "from octets 4-7" : "as given")}; guest type {(_o.Guest is null ? "from the image" : "as given")})"));
    }

    private static FgException Contradiction(long at, string flag, string why)
        => FgException.Invalid("legacy-forced-contradicts", "(input)", at, flag + " contradicts the image: " + why);

    // ---------------------------------------------------------------- steps

    private FgStreamReader<LegacyChunk>? _chunks;
    private LegacyStreamGrammar? _grammar;
    private Libxl.LibxlStreamWriter? _libxl;
    private LibxcStreamWriter? _libxc;
    private readonly List<Libxc.HvmParam> _hvmParams = new();
    private readonly MemoryStream _xenstore = new();

    private static readonly FgStreamOptions ChunkOptions = new() { MapFiles = false, MaxElementLength = MaxChunk };

    private IEnumerable<bool> Steps()
    {
        if (_xlHeader is not null) _tee.Write(_xlHeader);

        _grammar = new LegacyStreamGrammar((byte)(_bits / 8), _pv);
        _chunks = new FgStreamReader<LegacyChunk>(_source, _grammar, ChunkOptions);
        Guard(() => _chunks.ReadPrefix());
        FailOn(_chunks.Validation);
        _p2mSize = unchecked((ulong)_grammar.P2mSize!.Value);
        Log("P2M size: " + Hex(_p2mSize));

        if (_o.Format == LegacyOutputFormat.Libxl)
        {
            // Little-endian, and converted from a legacy image (options bit 1).
            _libxl = new Libxl.LibxlStreamWriter(_tee, new Libxl.Header { Options = 2 });
            _libxl.Write(new LibxlRecord { Type = LibxlRecordType.LibxcContext, Body = new Libxl.EmptyBody() });
        }
        _libxc = new LibxcStreamWriter(_tee, new ImageHeader { Version = 3, Options = 0 },
            new DomainHeader { Type = _pv ? DomainType.X86Pv : DomainType.X86Hvm, PageShift = 12, XenMajor = 0, XenMinor = 1 });
        if (_pv) WritePvHeader(_grammar.PvHeader!);
        else Record(new StaticDataEnd());
        yield return true;

        while (true)
        {
            bool more = false;
            Guard(() => more = _chunks.MoveNext(build: true));
            if (!more) break;
            FailOn(_chunks.Validation);
            try
            {
                Chunk(_chunks.Current!);
            }
            catch (FgException e) when (e.RecordIndex < 0)
            {
                // What the converter finds wrong in a chunk is said of that chunk, as the grammar's rules are.
                e.RecordIndex = _chunks.Index;
                e.RecordNoun = _grammar.ElementNoun;
                e.RecordName ??= _grammar.Label(_chunks.ElementBytes);
                throw;
            }
            catch (Exception e) when (e is FgInvalidModelException or FgWriteException)
            {
                // The record this chunk becomes breaks a rule of the libxc grammar (a TSC mode, ...).
                throw new FgException("legacy-output-invalid", "body", _chunks.ElementOffset,
                    "the converted stream would be invalid, so nothing is written: the record this chunk becomes: " + e.Message)
                {
                    RecordIndex = _chunks.Index,
                    RecordNoun = _grammar.ElementNoun,
                    RecordName = _grammar.Label(_chunks.ElementBytes),
                };
            }
            yield return true;
        }
        if (_hvmParams.Count > 0) Record(new HvmParams { Params = _hvmParams.ToArray() });

        if (_pv) foreach (var x in PvTail()) yield return x;
        else foreach (var x in HvmTail()) yield return x;

        if (_libxl is not null && _xenstore.Length > 0)
        {
            // Emulator 0, then the keys and values as octets: a physmap name is copied as it was, whatever its encoding.
            var body = new MemoryStream();
            body.Write(new Libxl.EmulatorHeader { EmulatorId = Libxl.EmulatorId.Unknown }.ToArray(littleEndian: true));
            _xenstore.WriteTo(body);
            _libxl.Write(new LibxlRecord
            {
                Type = LibxlRecordType.EmulatorXenstoreData,
                Body = new Libxl.RecordBodyUnknown { Key = LibxlRecordType.EmulatorXenstoreData, Bytes = body.ToArray() },
            });
            yield return true;
        }
        if (!_pv && (_libxl is not null || !_o.SkipQemu)) DeviceModel();
        _libxl?.Write(new LibxlRecord { Type = LibxlRecordType.End, Body = new Libxl.EmptyBody() });
    }

    private void Record(IRecordBody body) => _libxc!.Write(new Record { Body = body });

    private void Guard(Action read)
    {
        try
        {
            read();
        }
        catch (FgException e)
        {
            throw OneMistake(_chunks!.Validation, e);
        }
    }

    /// <summary>
    /// An error found after a rule the same octets broke (a bad signature, then its length): the rule is
    /// the one mistake to report.
    /// </summary>
    private static FgException OneMistake(FgValidation? rules, FgException error)
        => FgException.FirstError(rules) is { } first && first.Offset <= error.Offset ? first : error;

    private static void FailOn(FgValidation? v)
    {
        if (FgException.FirstError(v) is { } e) throw e;
    }

    private void WritePvHeader(PvHeader h)
    {
        var ext = h.ExtendedInfo;
        Log("Extended info: " + Hex(ext.TotalLength) + " octets");
        foreach (var b in ext.Blocks)
        {
            Log("  Block \"" + b.Id + "\", " + Hex(b.Size) + " octets");
            // One X86_PV_INFO for each "vcpu" block, where the block is, as Xen's converter writes it.
            if (b.Id == "vcpu") Record(new X86PvInfo { GuestWidth = (byte)b.GuestWidth, PtLevels = (byte)b.PtLevels });
        }
        _guestWidth = (int)ext.GuestWidth;
        Log(string.Create(CultureInfo.InvariantCulture, $"  {_guestWidth * 8}-bit guest, {(ext.GuestWidth == 4 ? 3 : 4)} page-table levels; vcpu context {Hex((ulong)ext.VcpuContextSize)} octets{(ext.HasExtendedContext ? ", extended context" : "")}{(ext.XsaveSize != 0 ? ", xsave " + Hex((ulong)ext.XsaveSize) : "")}"));
        Record(new StaticDataEnd());
        var frames = new ulong[h.P2mFrames.Count];
        for (int i = 0; i < frames.Length; i++) frames[i] = unchecked((ulong)h.P2mFrames[i].Value);
        Log(string.Create(CultureInfo.InvariantCulture, $"P2M frames: {frames.Length}, {4096 / _guestWidth} entries to a frame"));
        Record(new X86PvP2mFrames { P2mStartPfn = 0, P2mEndPfn = (uint)(_p2mSize - 1), P2mPfns = frames });
    }

    // ---------------------------------------------------------------- chunks

    private readonly HashSet<ulong> _seen = new();
    private Libxc.PfnEntry[] _entries = new Libxc.PfnEntry[1024];
    private byte[] _pageHeader = new byte[16 + 8 * 1024];

    private void Chunk(LegacyChunk c)
    {
        long at = _chunks!.ElementOffset;
        if (c.Batch is { } batch)
        {
            PageBatch(batch, at);
            return;
        }
        switch (c.Marker)
        {
            case ChunkType.EnableVerifyMode:
                Log("Chunk: enable verify mode (a debug stream)");
                break;
            case ChunkType.LastCheckpoint:
                Log("Chunk: last checkpoint");
                break;
            case ChunkType.VcpuInfo:
                var info = (VcpuInfo)c.Body!;
                // Each VCPU_INFO adds to the vcpus (Xen's converter's way); past 4096 no restore could take them.
                for (int word = 0; word < info.Online.Count; word++)
                    for (int bit = 0; bit < 64; bit++)
                        if ((info.Online[word] >> bit & 1) != 0)
                        {
                            if (_online.Count == 4096)
                                throw FgException.Invalid("legacy-vcpu-info-repeated", "body.online", at, "VCPU_INFO chunks name more than 4096 vcpus in all (each adds its vcpus to those of the chunks before it)");
                            _online.Add(word * 64 + bit);
                        }
                if (_o.Log is not null) Log("Chunk: vcpu info, max id " + info.MaxVcpuId + ", online " + string.Join(",", _online));
                break;
            case ChunkType.TscInfo:
                var tsc = (Legacy.TscInfo)c.Body!;
                Log(string.Create(CultureInfo.InvariantCulture, $"Chunk: TSC info, mode {tsc.Mode}, {tsc.Nsec} ns, {tsc.Khz} kHz, incarnation {tsc.Incarnation}"));
                Record(new Libxc.TscInfo { Mode = tsc.Mode, Khz = tsc.Khz, Nsec = tsc.Nsec, Incarnation = tsc.Incarnation });
                break;
            case ChunkType.Toolstack:
                Toolstack(((SizedData)c.Body!).Data, at + 8);
                break;
            case ChunkType.Tmem or ChunkType.TmemExtra:
            case ChunkType.CompressedData or ChunkType.EnableCompression:
                throw FgException.Invalid("legacy-chunk-unsupported", "marker", at, string.Create(CultureInfo.InvariantCulture,
                    $"a {Name(c.Marker)} chunk ({(int)c.Marker}): {(c.Marker is ChunkType.Tmem or ChunkType.TmemExtra ? "transcendent memory" : "Remus checkpoint compression")} cannot be converted to a version 3 stream (Xen's converter refuses it too)"));
            default:
                if (c.HvmParamIndex < 0) break;
                var param = (Legacy.HvmParam)c.Body!;
                if (_pv)
                    throw FgException.Invalid("legacy-hvm-param-in-pv", "marker", at, "an " + Name(c.Marker) + " chunk, which sets an HVM parameter, in a PV image (Xen's converter refuses it too)");
                Log("Chunk: " + Name(c.Marker) + " " + Hex(param.Value));
                _hvmParams.Add(new Libxc.HvmParam { Index = (ulong)c.HvmParamIndex, Value = param.Value });
                break;
        }
    }

    private static string Name(ChunkType t) => t switch
    {
        ChunkType.Tmem => "tmem",
        ChunkType.TmemExtra => "tmem extra",
        ChunkType.CompressedData => "compressed data",
        ChunkType.EnableCompression => "enable compression",
        _ => RecordNames.Upper(t.KsyName(), (long)t),
    };

    private void PageBatch(PageBatch batch, long at)
    {
        // Padding entries dropped; the rest widened, the type moved from bits 31-28 to 63-60.
        int n = 0;
        _seen.Clear();
        var pfns = batch.Pfns;
        for (int i = 0; i < pfns.Count; i++)
        {
            var e = pfns[i];
            ulong whole = e.Raw | (ulong)(e.High ?? 0) << 32;
            if (whole == 0xf0000000) continue;
            if (!_seen.Add(whole))
                throw FgException.Invalid("legacy-duplicate-pfn", "batch.pfns[" + i + "]", at + 4 + (long)i * (_bits / 8), string.Create(CultureInfo.InvariantCulture,
                    $"pfn entry {Hex(whole)} appears twice in the batch of {pfns.Count}: a batch sends each page once"));
            _entries[n++] = new Libxc.PfnEntry { Raw = ((ulong)(e.Raw & 0xf0000000) << 32) | (e.Raw & 0x0fffffff) };
        }
        long pages = pfns.Count == 0 ? 0 : pfns[pfns.Count - 1].PagesThrough;
        long bytes = pages * PageSize;
        _batches++;
        _pages += pages;
        if (n == 0)
        {
            // Xen's converter writes an empty PAGE_DATA here, which no restore accepts: leave the batch out.
            _emptyBatches++;
            Log(string.Create(CultureInfo.InvariantCulture, $"Left out: the batch at octet {at} holds only padding entries"));
            return;
        }
        var record = new Record { Body = new PageData { Pfns = new ArraySegment<Libxc.PfnEntry>(_entries, 0, n) } };
        int headerLength = record.Write(_pageHeader, 12, 3, littleEndian: true, verify: false);
        WriteCopying(_pageHeader.AsSpan(0, headerLength), Libxc.Record.Layout.BodyLengthOffset, Libxc.Record.Layout.BodyOffset, bytes, "batch.pages");
    }

    /// <summary>
    /// A record written without its bulk data (PAGE_DATA's pages, EMULATOR_CONTEXT's state): its
    /// length patched to cover the data, which then goes from input to output without being held
    /// (opaque to the verifier), and the padding after it.
    /// </summary>
    private void WriteCopying(Span<byte> head, int bodyLengthOffset, int bodyOffset, long count, string field)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(head.Slice(bodyLengthOffset), checked((uint)(head.Length - bodyOffset + count)));
        _tee.Write(head);
        _source.CopyTo(_out, count, field);
        _feed.AddOpaque(count);
        if (count % 8 != 0) _tee.Write(new byte[8 - count % 8]);
    }

    private void Toolstack(ReadOnlyMemory<byte> data, long at)
    {
        Log(string.Create(CultureInfo.InvariantCulture, $"Chunk: toolstack data, {data.Length} octets{(_o.Format == LegacyOutputFormat.Libxl ? "" : ", not needed for a libxc stream")}"));
        if (_o.Format != LegacyOutputFormat.Libxl || data.IsEmpty) return;
        // libxl's physmap, version 1; a 64-bit libxl leaked 4 octets of padding after each name.
        var validation = new FgValidation();
        var reader = new FgReader(data, true, at);
        LibxlToolstack ts;
        try
        {
            ts = LibxlToolstack.ReadCore(ref reader, validation, true, (byte)(_bits == 64 ? 4 : 0))!;
        }
        catch (FgException e)
        {
            throw e.Under("body.data");
        }
        if (FgException.FirstError(validation) is { } error) throw error.Under("body.data");
        foreach (var entry in ts.Entries)
        {
            string root = "physmap/" + entry.PhysOffset.ToString("x", CultureInfo.InvariantCulture);
            void Add(ReadOnlySpan<byte> text)
            {
                _xenstore.Write(text);
                _xenstore.WriteByte(0);
            }
            Add(Encoding.ASCII.GetBytes(root + "/start_addr"));
            Add(Encoding.ASCII.GetBytes(entry.StartAddr.ToString("x", CultureInfo.InvariantCulture)));
            Add(Encoding.ASCII.GetBytes(root + "/size"));
            Add(Encoding.ASCII.GetBytes(entry.Size.ToString("x", CultureInfo.InvariantCulture)));
            Add(Encoding.ASCII.GetBytes(root + "/name"));
            Add(entry.Name.Span);
            Log("  " + root + ": start " + Hex(entry.StartAddr) + ", size " + Hex(entry.Size) + ", name '" + Encoding.UTF8.GetString(entry.Name.Span) + "'");
        }
    }

    // ---------------------------------------------------------------- tails

    private T ReadTail<T>(FgReadFunc<T> read, string what)
    {
        var validation = new FgValidation();
        _readValidation = validation;
        T result;
        try
        {
            result = _source.Read((ref FgReader r) =>
            {
                validation.Clear();
                return read(ref r);
            }, littleEndian: true, MaxChunk, out _);
        }
        catch (FgException e)
        {
            throw OneMistake(validation, e).Under(what);
        }
        if (FgException.FirstError(validation) is { } error) throw error.Under(what);
        return result;
    }

    private FgValidation? _readValidation;

    private IEnumerable<bool> PvTail()
    {
        var head = ReadTail((ref FgReader r) => PvTailHead.ReadCore(ref r, _readValidation, true, (byte)(_bits / 8))!, "tail");
        if (head.Count != 0)
        {
            Log("Dropped " + head.Count + " 'unmapped' pfns");
            _source.Skip((long)head.Count * (_bits / 8), "tail.pfns");
        }
        var ext = _grammar!.PvHeader!.ExtendedInfo;
        uint contextSize = (uint)ext.VcpuContextSize, xsaveSize = (uint)ext.XsaveSize;
        bool extended = ext.HasExtendedContext;
        foreach (int id in _online)
        {
            var vcpu = ReadTail((ref FgReader r) => PvVcpu.ReadCore(ref r, _readValidation, true, contextSize, extended, xsaveSize)!, "tail.vcpu[" + id + "]");
            Log("Vcpu " + id + ": context " + Hex(contextSize) + (extended ? ", extended" : "") + (vcpu.Xsave is { } x ? ", xsave " + Hex((ulong)x.Length) + " mask " + Hex(vcpu.XsaveMask ?? 0) : ""));
            Record(new X86PvVcpuBasic { Vcpu = new VcpuContext { VcpuId = (uint)id, Context = vcpu.Context } });
            if (vcpu.Extended is { } e) Record(new X86PvVcpuExtended { Vcpu = new VcpuContext { VcpuId = (uint)id, Context = e } });
            if (vcpu.Xsave is { } xs) Record(new X86PvVcpuXsave { Vcpu = new VcpuContext { VcpuId = (uint)id, Context = xs } });
            yield return true;
        }
        var shared = ReadTail((ref FgReader r) => Legacy.SharedInfo.ReadCore(ref r, _readValidation, true)!, "tail.shared_info");
        Log("Shared info page");
        Record(new Libxc.SharedInfo { Data = shared.Page });
        Record(new End());
        yield return true;
    }

    private IEnumerable<bool> HvmTail()
    {
        var tail = ReadTail((ref FgReader r) => Legacy.HvmTail.ReadCore(ref r, _readValidation, true)!, "tail");
        Log("Magic pfns: ioreq " + Hex(tail.IoreqPfn) + ", buffered ioreq " + Hex(tail.BufioreqPfn) + ", store " + Hex(tail.StorePfn));
        Record(new HvmParams
        {
            Params = new[]
            {
                new Libxc.HvmParam { Index = 5, Value = tail.IoreqPfn },
                new Libxc.HvmParam { Index = 6, Value = tail.BufioreqPfn },
                new Libxc.HvmParam { Index = 1, Value = tail.StorePfn },
            },
        });
        Log("HVM context: " + tail.Context.Length + " octets");
        Record(new HvmContext { Data = tail.Context });
        Record(new End());
        yield return true;
    }

    private static ReadOnlySpan<byte> Qemu0002 => "DeviceModelRecord0002"u8;

    /// <summary>
    /// The device model record (qemu's state): its data goes from input to
    /// output without being held, as an EMULATOR_CONTEXT record of a libxl
    /// output, or as it was after END of a libxc one.
    /// </summary>
    private void DeviceModel()
    {
        long at = _source.Position;
        var signature = _source.Peek(Qemu0002.Length);
        if (signature.Length == Qemu0002.Length
            && (signature.SequenceEqual("RemusDeviceModelState"u8) || signature.SequenceEqual("QemuDeviceModelRecord"u8)))
            throw FgException.Invalid("legacy-device-model-unsupported", "tail.device_model.signature", at,
                "a \"" + Encoding.ASCII.GetString(signature) + "\" device model record: only \"DeviceModelRecord0002\" can be converted (as with Xen's converter); --skip-qemu leaves it out of a libxc stream");
        // Signature and length; the data is handed off (-fg-handoff) to be copied.
        var dm = ReadTail((ref FgReader r) => Legacy.DeviceModel.ReadCore(ref r, _readValidation, true)!, "tail.device_model");
        long length = dm.Length!.Value;
        Log("Device model record: " + length + " octets");
        if (_libxl is not null)
        {
            // EMULATOR_CONTEXT (emulator 0): written without its state, its length covering the state that follows.
            var record = new LibxlRecord
            {
                Type = LibxlRecordType.EmulatorContext,
                Body = new Libxl.EmulatorContext { Emulator = new Libxl.EmulatorHeader { EmulatorId = Libxl.EmulatorId.Unknown } },
            };
            WriteCopying(record.ToArray(littleEndian: true, verify: false), LibxlRecord.Layout.BodyLengthOffset, LibxlRecord.Layout.BodyOffset, length, "tail.device_model.data");
            return;
        }
        // After the libxc stream's END, as the legacy image had it: signature, length, data.
        Span<byte> raw = stackalloc byte[25];
        Qemu0002.CopyTo(raw);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.Slice(21), (uint)length);
        _out.Write(raw);
        _source.CopyTo(_out, length, "tail.device_model.data");
    }
}
