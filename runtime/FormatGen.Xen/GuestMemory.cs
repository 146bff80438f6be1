using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Xen;

/// <summary>What <see cref="GuestMemory.Extract(Stream, SafeFileHandle, ExtractOptions?, CancellationToken)"/> writes.</summary>
public enum GuestMemoryFormat
{
    /// <summary>A sparse image: pfn N's page at offset N × page size; pages never sent are holes.</summary>
    Raw,
    /// <summary>An ELF64 core file: a PT_LOAD per run of consecutive pfns, a note per vCPU's registers.</summary>
    Elf,
}

/// <summary>How to extract.</summary>
public sealed record ExtractOptions
{
    public GuestMemoryFormat Format { get; init; } = GuestMemoryFormat.Raw;

    /// <summary>The memory as of the end of this checkpoint (1 = the first) of a checkpointed stream; null: as of the end of the stream.</summary>
    public int? Checkpoint { get; init; }

    /// <summary>Read the input as this format instead of detecting it (libxc, libxl or xl).</summary>
    public ImageKind? Input { get; init; }

    /// <summary>Record limit and mapping of the input.</summary>
    public FgStreamOptions? Stream { get; init; }

    /// <summary>For a legacy image: its toolstack width and guest type when its octets do not tell.</summary>
    public LegacyOptions? Legacy { get; init; }
}

/// <summary>A PAGE_DATA record that named a pfn: the libxc record's index and offset, the checkpoint round, the page's type, and whether its contents came with it.</summary>
public sealed record PfnSend(long RecordIndex, long Offset, int Round, PageType Type, bool HasData);

/// <summary>What the stream sent of one pfn (<see cref="GuestMemory.History"/>): every record that named it, and the last contents.</summary>
public sealed record PfnHistory(ulong Pfn, IReadOnlyList<PfnSend> Sends, byte[]? LastContents, int PageSize);

/// <summary>What an extraction found and wrote.</summary>
public sealed record ExtractReport
{
    /// <summary>The input's format (a legacy image is read through the converter).</summary>
    public ImageKind Input { get; init; }
    public GuestMemoryFormat Format { get; init; }
    public int PageSize { get; init; }
    /// <summary>Distinct pfns whose contents were written.</summary>
    public long Pages { get; init; }
    /// <summary>Pages written, counting each page sent again in a later round.</summary>
    public long PagesSent { get; init; }
    /// <summary>Pfns the stream named without contents (XTAB, BROKEN, XALLOC) and never sent with them: holes.</summary>
    public long PagesWithoutData { get; init; }
    /// <summary>The highest pfn the stream named, or null when it sent no page.</summary>
    public ulong? HighestPfn { get; init; }
    /// <summary>The vCPUs whose registers were found (the last each sent).</summary>
    public IReadOnlyList<VcpuRegisters> Vcpus { get; init; } = Array.Empty<VcpuRegisters>();
    /// <summary>The checkpoint extracted (0: the end of a stream that is not checkpointed).</summary>
    public int Checkpoint { get; init; }
    /// <summary>Checkpoints complete in what was read.</summary>
    public int CompleteRounds { get; init; }
    public long OutputLength { get; init; }
    /// <summary>Rule violations met on the way (the reader's), and blobs that did not decode.</summary>
    public IReadOnlyList<FgViolation> Violations { get; init; } = Array.Empty<FgViolation>();
}

/// <summary>
/// Guest memory and vCPU state out of a save file or stream, in one pass with
/// flat memory: each page goes from the input straight to its place in the
/// output, which is written at offsets, never held; the one index kept is the set
/// of pfns written (<see cref="PfnSet"/>). The last contents a pfn was sent with
/// win; a pfn sent only without contents (XTAB, BROKEN, XALLOC), or never sent, is
/// a hole; a later record without contents leaves what was sent before.
/// </summary>
public static class GuestMemory
{
    private const int HeadLength = 64;

    /// <summary>
    /// Extracts from any image <see cref="XenReader"/> reads (libxc, libxl, xl, checkpointed) and
    /// from legacy images (bare or in an xl save file), which go through <see cref="LegacyConverter"/>
    /// as they are read. <paramref name="output"/> is a regular file opened for writing (it is
    /// written at offsets and its length set); what it held is overwritten. Throws
    /// <see cref="FgException"/> on a structural error of the input, with the output partly written.
    /// </summary>
    public static ExtractReport Extract(Stream input, SafeFileHandle output, ExtractOptions? options = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new ExtractOptions();
        var (head, replay) = Head(input);
        if (options.Input is null && IsLegacy(head, out bool xl))
            return ExtractLegacy(replay, xl, output, options, cancel);
        using var reader = new XenReader(replay, options.Input, options.Stream);
        return Extract(reader, output, options, cancel);
    }

    /// <summary>Extracts from a reader not yet read; see the Stream overload.</summary>
    public static ExtractReport Extract(XenReader reader, SafeFileHandle output, ExtractOptions? options = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new ExtractOptions();
        if (options.Checkpoint is < 1) throw new ArgumentOutOfRangeException(nameof(options), "checkpoints are counted from 1");
        var run = new Extraction(reader, output, options);
        return run.Run(cancel);
    }

    // The first octets, and a stream that reads from the start again.
    private static (byte[] Head, Stream Replay) Head(Stream input)
    {
        var head = new byte[HeadLength];
        int n = 0;
        if (input is FileStream { CanSeek: true } fs)
        {
            n = RandomAccess.Read(fs.SafeFileHandle, head, fs.Position);
            return (head[..n], input);
        }
        while (n < head.Length)
        {
            int got = input.Read(head, n, head.Length - n);
            if (got <= 0) break;
            n += got;
        }
        return (head[..n], new PrefixedStream(head[..n], input));
    }

    // A legacy image, bare or after an xl header whose mandatory flags say no libxl stream follows.
    private static bool IsLegacy(byte[] head, out bool xl)
    {
        xl = false;
        var kind = ImageDetector.Detect(head);
        if (kind == ImageKind.Legacy) return true;
        if (kind != ImageKind.XlSaveFile || head.Length < 40) return false;
        xl = true;
        bool le = head[32] == 4;
        return (Xl.Header.PeekMandatoryFlags(head.AsSpan(36), le) & 2) == 0;
    }

    private static ExtractReport ExtractLegacy(Stream input, bool xl, SafeFileHandle output, ExtractOptions options, CancellationToken cancel)
    {
        // The converter writes a version 3 stream into a pipe that the extraction reads as it goes:
        // one pass, and no more held than the pipe's few MiB.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20, useSynchronizationContext: false));
        Exception? failure = null;
        LegacyReport? converted = null;
        var legacy = (options.Legacy ?? new LegacyOptions()) with { Format = xl ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc, Log = null };
        var converting = Task.Factory.StartNew(() =>
        {
            try
            {
                var stream = pipe.Writer.AsStream(leaveOpen: true);
                converted = LegacyConverter.Convert(input, stream, legacy, cancel);
                stream.Flush();
                pipe.Writer.Complete();
            }
            catch (Exception e)
            {
                failure = e;
                pipe.Writer.Complete(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        ExtractReport report;
        try
        {
            using var reader = new XenReader(pipe.Reader, null, options.Stream);
            report = Extract(reader, output, options, cancel);
        }
        catch (Exception) when (Finish() is { } converterFailure)
        {
            // The converter's error names the legacy image's own offsets: it is the one to report.
            ExceptionDispatchInfo.Throw(converterFailure);
            throw;
        }
        if (Finish() is { } late) ExceptionDispatchInfo.Throw(late);
        var warnings = new List<FgViolation>(converted?.Warnings ?? []);
        warnings.AddRange(report.Violations);
        return report with { Input = ImageKind.Legacy, Violations = warnings };

        Exception? Finish()
        {
            pipe.Reader.Complete();
            converting.Wait(CancellationToken.None);
            return failure is FgException or OperationCanceledException ? failure : failure is null ? null : new IOException("converting the legacy image failed: " + failure.Message, failure);
        }
    }

    /// <summary>
    /// Every PAGE_DATA record that names <paramref name="pfn"/>, in stream order, and the last
    /// contents it was sent with (what <see cref="Extract(XenReader, SafeFileHandle, ExtractOptions?, CancellationToken)"/>
    /// writes for it). Reads the whole stream; throws <see cref="FgException"/> on a structural error.
    /// </summary>
    public static PfnHistory History(XenReader reader, ulong pfn, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var sends = new List<PfnSend>();
        byte[]? last = null;
        int pageShift = 12;
        bool le = true;
        while (reader.MoveNext(static (_, _) => false))
        {
            cancel.ThrowIfCancellationRequested();
            if (reader.Kind == XenItemKind.LibxcHeader)
            {
                pageShift = reader.Libxc!.DomainHeader.PageShift;
                le = reader.Libxc.LittleEndian;
            }
            if (reader.Kind != XenItemKind.Record || reader.Layer != XenLayer.Libxc || reader.LibxcType != RecordType.PageData) continue;
            var entries = new PageDataEntries(reader.CurrentBytes.Slice(Math.Min(reader.CurrentBytes.Length, Libxc.Record.Layout.BodyOffset)), le, pageShift);
            foreach (var e in entries)
            {
                if (e.Entry.Pfn != pfn) continue;
                sends.Add(new PfnSend(reader.Index, reader.Offset, reader.Round, e.Entry.Type, e.Page >= 0));
                if (e.Page >= 0) last = entries.Data.Slice(e.Page << pageShift, 1 << pageShift).ToArray();
            }
        }
        return new PfnHistory(pfn, sends, last, 1 << pageShift);
    }

    /// <summary>One extraction's state.</summary>
    private sealed class Extraction(XenReader reader, SafeFileHandle output, ExtractOptions options)
    {
        private readonly PfnSet _written = new();
        private readonly PfnSet _named = new();   // pfns sent without contents
        private readonly Dictionary<uint, VcpuRegisters> _vcpus = new();
        private readonly List<FgViolation> _violations = new();
        private ElfCore? _elf;
        private int _pageShift = -1;
        private bool _le = true;
        private ulong? _highest;
        private long _sent;
        private int _guestWidth;   // X86_PV_INFO's, octets

        public ExtractReport Run(CancellationToken cancel)
        {
            int checkpoint = 0;
            // Whole records (a page's contents are needed), no models.
            while (reader.MoveNext(static (_, _) => false))
            {
                cancel.ThrowIfCancellationRequested();
                foreach (var v in reader.Violations) _violations.Add(v);
                if (reader.Kind == XenItemKind.LibxcHeader) Start(reader.Libxc!);
                else if (reader.Kind == XenItemKind.Record && reader.Layer == XenLayer.Libxc) Record(reader.LibxcType, reader.CurrentBytes, reader.Offset);
                if (options.Checkpoint is int n && reader.Checkpointed && reader.CompleteRounds == n)
                {
                    checkpoint = n;
                    break;
                }
            }
            foreach (var v in reader.Violations) _violations.Add(v);
            if (options.Checkpoint is int wanted && checkpoint == 0)
            {
                throw FgException.Invalid("checkpoint-not-in-stream", "(end)", reader.Position, !reader.Checkpointed
                    ? string.Create(CultureInfo.InvariantCulture, $"checkpoint {wanted} asked for, but the stream is not checkpointed (Remus/COLO): extract it without --checkpoint")
                    : string.Create(CultureInfo.InvariantCulture, $"checkpoint {wanted} asked for, but the stream holds {reader.CompleteRounds} complete checkpoint(s)"));
            }
            if (_pageShift < 0) throw FgException.Invalid("no-libxc-stream", "(end)", reader.Position, "the image holds no libxc stream, so no guest memory");
            Unstage();
            long length;
            var vcpus = new List<VcpuRegisters>(_vcpus.Values);
            vcpus.Sort((a, b) => a.Id.CompareTo(b.Id));
            if (_elf is not null) length = _elf.Finish(_written, vcpus, Facts(vcpus.Count, checkpoint), reader.Libxc!.DomainHeader.Type == DomainType.X86Hvm);
            else
            {
                length = _highest is { } h ? (long)(h + 1) << _pageShift : 0;
                // Only when pages at the end are holes: a truncate, even to the same length, makes ext4
                // allocate (and start writing) everything written so far (auto_da_alloc).
                if (RandomAccess.GetLength(output) != length) RandomAccess.SetLength(output, length);
            }
            return new ExtractReport
            {
                Input = reader.Format,
                Format = options.Format,
                PageSize = 1 << _pageShift,
                Pages = _written.Count,
                PagesSent = _sent,
                PagesWithoutData = CountWithout(),
                HighestPfn = _highest,
                Vcpus = vcpus,
                Checkpoint = checkpoint,
                CompleteRounds = reader.CompleteRounds,
                OutputLength = length,
                Violations = _violations,
            };
        }

        private long CountWithout()
        {
            long n = 0;
            foreach (var (first, count) in _named.Runs())
                for (ulong p = first; p < first + count; p++)
                    if (!_written.Contains(p)) n++;
            return n;
        }

        private void Start(LibxcReader libxc)
        {
            int shift = libxc.DomainHeader.PageShift;
            if (_pageShift >= 0 && shift != _pageShift)
                throw FgException.Invalid("page-shift-changed", "domain_header.page_shift", reader.Offset,
                    string.Create(CultureInfo.InvariantCulture, $"a second libxc stream has pages of {1L << shift} octets, the first of {1L << _pageShift}"));
            if (shift is < 12 or > 30)
                throw FgException.Invalid("page-shift", "domain_header.page_shift", reader.Offset, string.Create(CultureInfo.InvariantCulture, $"pages of 2^{shift} octets cannot be extracted (2^12 to 2^30)"));
            _pageShift = shift;
            _le = libxc.LittleEndian;
            if (options.Format == GuestMemoryFormat.Elf) _elf ??= new ElfCore(output, shift);
        }

        private void Record(RecordType type, ReadOnlySpan<byte> record, long offset)
        {
            var body = record.Slice(Math.Min(record.Length, Libxc.Record.Layout.BodyOffset));
            switch (type)
            {
                case RecordType.PageData:
                    Pages(body, offset);
                    break;
                case RecordType.X86PvInfo:
                    if (body.Length > X86PvInfo.Layout.GuestWidthOffset) _guestWidth = body[X86PvInfo.Layout.GuestWidthOffset];
                    break;
                case RecordType.HvmContext:
                case RecordType.X86PvVcpuBasic:
                    foreach (var v in VcpuDecoder.Decode(type, body, _le, _guestWidth, offset + Libxc.Record.Layout.BodyOffset, _violations))
                        _vcpus[v.Id] = v;
                    break;
            }
        }

        // A PAGE_DATA body: the pages of consecutive pfns go out in one write.
        private void Pages(ReadOnlySpan<byte> body, long offset)
        {
            var entries = new PageDataEntries(body, _le, _pageShift);
            ulong runPfn = 0;      // the run being gathered: its first pfn, first page and length
            int runPage = 0, runLength = 0;
            foreach (var e in entries)
            {
                ulong pfn = e.Entry.Pfn;
                if (_highest is not { } h || pfn > h) _highest = pfn;
                // Without contents, or cut off (a violation the reader reported): nothing to write.
                if (e.Page < 0)
                {
                    if (!e.Entry.HasData) _named.Add(pfn);
                    continue;
                }
                bool extends = runLength > 0 && pfn == runPfn + (ulong)runLength && runPage + runLength == e.Page
                    && (_elf is null || (ulong)runLength < ElfCore.LeftInRegion(runPfn));
                if (!extends)
                {
                    Flush(entries.Data, runPfn, runPage, runLength);
                    runPfn = pfn;
                    runPage = e.Page;
                    runLength = 0;
                }
                runLength++;
            }
            Flush(entries.Data, runPfn, runPage, runLength);
        }

        // Runs of a few pages (records of one page, small batches) gather here when they follow one
        // another, to go out in one write: a write a page costs the kernel three times a page's copy.
        private const int StagePages = 256;
        private byte[]? _stage;
        private ulong _stagePfn;
        private int _staged;

        private void Flush(ReadOnlySpan<byte> data, ulong pfn, int page, int pages)
        {
            if (pages == 0) return;
            int shift = _pageShift;
            var run = data.Slice(page << shift, pages << shift);
            for (int i = 0; i < pages; i++) _written.Add(pfn + (ulong)i);
            _sent += pages;
            bool follows = _staged > 0 && pfn == _stagePfn + (ulong)_staged && _staged + pages <= StagePages
                && (_elf is null || (ulong)(_staged + pages) <= ElfCore.LeftInRegion(_stagePfn));
            if (!follows)
            {
                Unstage();
                if (pages >= StagePages / 4 || ((long)StagePages << shift) > 8 << 20)
                {
                    Write(pfn, run);
                    return;
                }
                _stage ??= GC.AllocateUninitializedArray<byte>(StagePages << shift);
                _stagePfn = pfn;
            }
            run.CopyTo(_stage.AsSpan(_staged << shift));
            _staged += pages;
        }

        /// <summary>Writes out the pages gathered so far.</summary>
        private void Unstage()
        {
            if (_staged == 0) return;
            int n = _staged;
            _staged = 0;
            Write(_stagePfn, _stage.AsSpan(0, n << _pageShift));
        }

        private void Write(ulong pfn, ReadOnlySpan<byte> pages)
        {
            int shift = _pageShift;
            if (_elf is null && pfn > (ulong)(long.MaxValue >> shift)) throw TooFar(pfn, long.MaxValue);
            long at = _elf is not null ? _elf.OffsetOf(pfn) : (long)(pfn << shift);
            try
            {
                FgOutput.WriteAt(output, pages, at);
                _elf?.Wrote(at + pages.Length);
            }
            // EFBIG: .NET says "file length was too large for the file system" (an ArgumentOutOfRangeException).
            catch (Exception e) when (e is IOException or ArgumentOutOfRangeException && e.Message.Contains("too large", StringComparison.OrdinalIgnoreCase))
            {
                throw TooFar(pfn, at, e);
            }
        }

        private IOException TooFar(ulong pfn, long at, Exception? inner = null)
            => new(string.Create(CultureInfo.InvariantCulture,
                $"the output's file system cannot hold pfn 0x{pfn:x} at offset {at} (file too large){(_elf is null ? "; --format elf places sparse memory compactly" : "")}"), inner);

        // The xenstream note: the domain header's facts and what was extracted.
        private byte[] Facts(int vcpus, int checkpoint)
        {
            var libxc = reader.Libxc!;
            var b = new byte[56];
            BinaryPrimitives.WriteUInt32LittleEndian(b, 1);   // this note's version
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)libxc.DomainHeader.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)_pageShift);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), libxc.ImageHeader.Version);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), libxc.DomainHeader.XenMajor);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), libxc.DomainHeader.XenMinor);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), (uint)vcpus);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), (uint)checkpoint);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(32), (uint)reader.CompleteRounds);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(36), libxc.LittleEndian ? 1u : 0u);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)_written.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), _highest ?? ulong.MaxValue);
            return b;
        }
    }

    /// <summary>Octets read ahead, then the rest of a stream that cannot seek.</summary>
    private sealed class PrefixedStream(byte[] head, Stream rest) : Stream
    {
        private int _at;
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_at < head.Length)
            {
                int n = Math.Min(buffer.Length, head.Length - _at);
                head.AsSpan(_at, n).CopyTo(buffer);
                _at += n;
                return n;
            }
            return rest.Read(buffer);
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => _at < head.Length ? Read(buffer.Span) : await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
