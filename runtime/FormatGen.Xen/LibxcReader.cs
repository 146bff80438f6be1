using System;
using System.Collections.Generic;
using System.IO;
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

    public LibxcReader(Stream input, FgStreamOptions? options = null)
    {
        _reader = new FgStreamReader<Record>(input, _grammar, options);
    }

    /// <summary>
    /// A reader taking the libxc stream from <paramref name="source"/> at its
    /// position, in turn with other readers of the same wire (the libxl
    /// stream that carries it). <paramref name="checkpointed"/>: CHECKPOINT
    /// records end rounds of a Remus/COLO stream rather than being misplaced.
    /// </summary>
    public LibxcReader(FgSource source, FgStreamOptions? options = null, bool checkpointed = false)
    {
        _reader = new FgStreamReader<Record>(source, _grammar, options);
        _checkpointed = checkpointed;
    }

    /// <summary>The image header (after <see cref="ReadHeaders"/>).</summary>
    public ImageHeader ImageHeader => _grammar.ImageHeader;

    /// <summary>The domain header (after <see cref="ReadHeaders"/>).</summary>
    public DomainHeader DomainHeader => _grammar.DomainHeader;

    public bool LittleEndian => _grammar.ElementsLittleEndian;

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
        _violations.Clear();
        if (!_reader.MoveNext(build, skipAhead)) return false;
        var bytes = _reader.ElementBytes;
        Type = Record.PeekType(bytes, LittleEndian);
        BodyLength = Record.PeekBodyLength(bytes, LittleEndian);
        if (_reader.Validation is { Count: > 0 } v) _violations.AddRange(v.Violations);
        _layout.Clear();
        _rules!.Observe(bytes, Index, Offset, _layout);
        if (_reader.Finished) _rules.Finish(Index, Offset, _layout);
        if (_layout.Count > 0) _violations.AddRange(_layout.Violations);
        return true;
    }

    /// <summary>After END: whether octets follow it.</summary>
    public bool HasTrailingData() => _reader.HasTrailingData();

    public void Dispose() => _reader.Dispose();
}
