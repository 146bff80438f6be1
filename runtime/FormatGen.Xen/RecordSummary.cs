using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Text;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>
/// One-line descriptions of records for dump and verify -v, written as UTF-8
/// into a buffer (<see cref="Write(XenReader, IBufferWriter{byte})"/>: what
/// dump prints, without a string per record) or made as strings.
/// </summary>
public static class RecordSummary
{
    /// <summary>
    /// Whether <see cref="Write(XenReader, IBufferWriter{byte})"/> needs the model
    /// of a libxc record of this type and body length: PAGE_DATA is described
    /// from its octets. For <see cref="XenReader.MoveNext(Func{RecordType, uint, bool})"/>.
    /// </summary>
    public static bool NeedsModel(RecordType type, uint bodyLength)
        // A body too short for count and reserved has no page_data model (its summary is the unknown body's).
        => type != RecordType.PageData || bodyLength < Libxc.PageData.Layout.PfnsOffset;

    /// <summary>
    /// The summary of the reader's current record, as UTF-8 into <paramref name="output"/>:
    /// PAGE_DATA from the record's octets, other records from their model (read
    /// with <see cref="XenReader.MoveNext(Func{RecordType, uint, bool})"/> and
    /// <see cref="NeedsModel"/>, or with build).
    /// </summary>
    public static void Write(XenReader reader, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(output);
        if (reader.Kind != XenItemKind.Record) throw new InvalidOperationException("The reader is not on a record.");
        if (reader.Layer == XenLayer.Libxl)
        {
            Write(reader.LibxlRecord!, output);
            return;
        }
        if (!NeedsModel(reader.LibxcType, reader.BodyLength))
        {
            var body = reader.CurrentBytes[Record.Layout.BodyOffset..];
            WritePageData(new OctetPfns(body, reader.Libxc!.LittleEndian), output);
            return;
        }
        Write(reader.LibxcRecord ?? throw new InvalidOperationException("The record's model was not built (read it with build, or with RecordSummary.NeedsModel)."), output);
    }

    /// <summary>A libxc record's summary as UTF-8: PAGE_DATA's pfn ranges and page counts; other records: their generated field summary.</summary>
    public static void Write(Record record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(record);
        switch (record.Body)
        {
            case PageData p: WritePageData(new ModelPfns(p.Pfns), output); break;
            case { } body:
                var o = new Utf8Out(output);
                o.Text(body.Summary());
                o.Commit();
                break;
        }
    }

    /// <summary>A libxl record's summary as UTF-8: the xenstore keys and values, the emulator, the checkpoint step.</summary>
    public static void Write(Libxl.Record record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(record);
        var o = new Utf8Out(output);
        switch (record.Body)
        {
            case Libxl.EmulatorXenstoreData x:
                Emulator(ref o, x.Emulator);
                o.Literal(", "u8);
                for (int i = 0; i + 1 < x.Strings.Count; i += 2)
                {
                    if (i > 0) o.Literal(", "u8);
                    o.Text(x.Strings[i]);
                    o.Literal("=\""u8);
                    o.Text(x.Strings[i + 1]);
                    o.Literal("\""u8);
                }
                break;
            case Libxl.EmulatorContext c:
                Emulator(ref o, c.Emulator);
                o.Literal(", state="u8);
                o.Dec((ulong)c.State.Length);
                o.Literal(" octets"u8);
                break;
            case Libxl.CheckpointState s:
                o.Literal("control="u8);
                o.Upper(Libxl.CheckpointControlNames.KsyName(s.ControlId), (long)s.ControlId);
                break;
            case { } body:
                o.Text(body.Summary());
                break;
        }
        o.Commit();
    }

    private static void Emulator(ref Utf8Out o, Libxl.EmulatorHeader e)
    {
        o.Literal("emulator="u8);
        o.Upper(Libxl.EmulatorIdNames.KsyName(e.EmulatorId), (long)e.EmulatorId);
        o.Literal(", index="u8);
        o.Dec(e.Index);
    }

    /// <summary>PAGE_DATA: pfn ranges and page counts; other records: their generated field summary.</summary>
    public static string Of(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Text(record, static (r, b) => Write(r, b));
    }

    /// <summary>A libxl record: the xenstore keys and values, the emulator, the checkpoint step.</summary>
    public static string Of(Libxl.Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Text(record, static (r, b) => Write(r, b));
    }

    /// <summary>PAGE_DATA's summary: the number of entries and of pages, the pfn ranges, the page types unless all are ordinary.</summary>
    public static string PageData(PageData p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return Text(p, static (p, b) => WritePageData(new ModelPfns(p.Pfns), b));
    }

    /// <summary>Runs of consecutive pfns, e.g. "0x0-0x3ff, 0x800".</summary>
    public static string Ranges(IReadOnlyList<PfnEntry> entries, int max)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return Text((entries, max), static (x, b) =>
        {
            var o = new Utf8Out(b);
            WriteRanges(new ModelPfns(x.entries), x.max, ref o);
            o.Commit();
        });
    }

    // The string API: what a UTF-8 writer of the summary writes, as a string.
    private static string Text<T>(T value, Action<T, ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(value, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // PAGE_DATA's pfn entries, from a model or from the record's octets: one summary for both.
    private interface IPfns
    {
        int Count { get; }
        PfnEntry this[int i] { get; }
    }

    private readonly struct ModelPfns(IReadOnlyList<PfnEntry> entries) : IPfns
    {
        public int Count => entries.Count;
        public PfnEntry this[int i] => entries[i];
    }

    /// <summary>The entries of a page_data body (count, reserved, the entries, the pages).</summary>
    private readonly ref struct OctetPfns : IPfns
    {
        private readonly ReadOnlySpan<byte> _entries;
        private readonly bool _le;

        public OctetPfns(ReadOnlySpan<byte> body, bool littleEndian)
        {
            _le = littleEndian;
            var entries = body[Libxc.PageData.Layout.PfnsOffset..];
            uint count = Libxc.PageData.PeekCount(body, littleEndian);
            // A record read whole holds all count entries (a reader refuses one that does not).
            _entries = entries[..((int)Math.Min(count, (uint)(entries.Length / PfnEntry.Layout.Size)) * PfnEntry.Layout.Size)];
        }

        public int Count => _entries.Length / PfnEntry.Layout.Size;

        public PfnEntry this[int i] => new() { Raw = PfnEntry.PeekRaw(_entries.Slice(i * PfnEntry.Layout.Size, PfnEntry.Layout.Size), _le) };
    }

    private const int PageTypes = 16;   // the 4-bit type of a pfn entry

    private static void WritePageData<T>(T pfns, IBufferWriter<byte> output) where T : IPfns, allows ref struct
    {
        int withData = 0, kinds = 0;
        Span<int> types = stackalloc int[PageTypes];
        for (int i = 0; i < pfns.Count; i++)
        {
            var e = pfns[i];
            if (e.HasData) withData++;
            if (types[(int)e.Type]++ == 0) kinds++;
        }
        var o = new Utf8Out(output);
        o.Literal("count="u8);
        o.Dec((ulong)pfns.Count);
        o.Literal(", pages="u8);
        o.Dec((ulong)withData);
        o.Literal(", pfns "u8);
        WriteRanges(pfns, 4, ref o);
        if (kinds > 1 || types[(int)PageType.Notab] == 0)
        {
            o.Literal(", types"u8);
            for (int t = 0; t < PageTypes; t++)
            {
                if (types[t] == 0) continue;
                o.Literal(" "u8);
                o.Upper(((PageType)t).KsyName(), t);
                o.Literal(":"u8);
                o.Dec((ulong)types[t]);
            }
        }
        o.Commit();
    }

    private static void WriteRanges<T>(T entries, int max, ref Utf8Out o) where T : IPfns, allows ref struct
    {
        int runs = 0, i = 0;
        while (i < entries.Count)
        {
            ulong start = entries[i].Pfn, end = start;
            int j = i + 1;
            while (j < entries.Count && entries[j].Pfn == end + 1) { end++; j++; }
            if (runs == max)
            {
                o.Literal(", ... ("u8);
                o.Dec((ulong)(entries.Count - i));
                o.Literal(" more)"u8);
                break;
            }
            if (runs > 0) o.Literal(", "u8);
            o.Literal("0x"u8);
            o.Hex(start);
            if (end != start)
            {
                o.Literal("-0x"u8);
                o.Hex(end);
            }
            runs++;
            i = j;
        }
    }

    /// <summary>
    /// UTF-8 text into a buffer writer, a span at a time (one GetSpan and
    /// Advance for a short summary, not one per piece); <see cref="Commit"/> at the end.
    /// </summary>
    private ref struct Utf8Out(IBufferWriter<byte> output)
    {
        private Span<byte> _span;
        private int _at;

        private Span<byte> Room(int size)
        {
            if (_span.Length - _at < size)
            {
                if (_at > 0) output.Advance(_at);
                _at = 0;
                _span = output.GetSpan(Math.Max(size, 256));
            }
            return _span[_at..];
        }

        public void Literal(ReadOnlySpan<byte> text)
        {
            text.CopyTo(Room(text.Length));
            _at += text.Length;
        }

        public void Text(string text)
        {
            if (text.Length == 0) return;
            // Room first: it may write out what is pending and start _at again (found by fuzzing: in
            // one statement, _at += ... read _at before Room reset it, and the count ran past the span).
            var room = Room(Encoding.UTF8.GetMaxByteCount(text.Length));
            _at += Encoding.UTF8.GetBytes(text, room);
        }

        public void Dec(ulong value)
        {
            Utf8Formatter.TryFormat(value, Room(20), out int n);
            _at += n;
        }

        public void Dec(long value)
        {
            Utf8Formatter.TryFormat(value, Room(20), out int n);
            _at += n;
        }

        public void Hex(ulong value)
        {
            Utf8Formatter.TryFormat(value, Room(16), out int n, new StandardFormat('x'));
            _at += n;
        }

        /// <summary><see cref="RecordNames.Upper"/> as UTF-8, without making the string for a grammar's (ASCII) name.</summary>
        public void Upper(string? ksyName, long value)
        {
            if (ksyName is null) Dec(value);
            else if (!System.Text.Ascii.IsValid(ksyName)) Text(RecordNames.Upper(ksyName, value));
            else
            {
                System.Text.Ascii.ToUpper(ksyName, Room(ksyName.Length), out int n);
                _at += n;
            }
        }

        public void Commit()
        {
            if (_at > 0) output.Advance(_at);
            _at = 0;
            _span = default;
        }
    }
}
