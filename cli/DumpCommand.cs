using System;
using System.Buffers;
using System.Buffers.Text;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Cli;

/// <summary>
/// dump [FILE|-] [--json] [--config] [-f FORMAT]: every layer's headers and
/// records in wire order, nested as on the wire (xl header, libxl records, the
/// libxc records inside LIBXC_CONTEXT), each checkpoint round marked.
/// </summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var input = Program.InputArgument();
        var sample = Program.SampleOption();
        var json = new Option<bool>("--json") { Description = "Write JSON (one document: headers, records with layer, depth and round, checkpoints, violations)." };
        var config = new Option<bool>("--config") { Description = "Print only the domain configuration an xl save file carries." };
        var format = Program.FormatOption();
        var maxRecord = Program.MaxRecordOption();
        var pfn = new Option<string?>("--pfn") { Description = "Print only which PAGE_DATA records sent pfn N (decimal, or hex with 0x), with what page type, and a hexdump of its last contents." };
        var cmd = new Command("dump", "List the headers and records of a Xen image, layer by layer: index, offset, type, length and a summary.") { input, sample, json, config, format, maxRecord, pfn };
        cmd.SetAction(p =>
        {
            // Nothing to clean up: a signal ends the dump at once.
            using var interrupted = new Inputs.Interrupted { Grace = TimeSpan.Zero, Farewell = "xenstream: interrupted; the dump is incomplete" };
            if (p.GetValue(pfn) is { } which)
            {
                if (p.GetValue(config)) throw new UsageException("give --pfn or --config, not both");
                return Pfn(p.GetValue(input), p.GetValue(sample), ParsePfn(which), p.GetValue(json), Program.ParseFormat(p.GetValue(format)), p.GetValue(maxRecord), Outputs.StandardOutput());
            }
            return p.GetValue(config)
                ? Config(p.GetValue(input), p.GetValue(sample), Program.ParseFormat(p.GetValue(format)), p.GetValue(maxRecord), Outputs.StandardOutput())
                : RunWith(p.GetValue(input), p.GetValue(sample), p.GetValue(json), Program.ParseFormat(p.GetValue(format)), p.GetValue(maxRecord), Outputs.StandardOutput());
        });
        return cmd;
    }

    private static ulong ParsePfn(string text)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (!ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var pfn) || pfn >= 1UL << 52)
            throw new UsageException("--pfn takes a page frame number below 2^52, decimal or hex (0x...): not '" + text + "'");
        return pfn;
    }

    /// <summary>dump --pfn N: the records that sent pfn N, and its last contents as a hexdump.</summary>
    public static int Pfn(string? path, bool sample, ulong pfn, bool json, ImageKind? format, long maxRecord, Stream stdout)
    {
        var options = Program.StreamOptions(maxRecord);
        using var input = Inputs.Open(path, sample, out var name);
        using var reader = new XenReader(input, format, options);
        PfnHistory history;
        try
        {
            history = GuestMemory.History(reader, pfn);
        }
        catch (FgException e)
        {
            Program.RefuseLegacy(e, name, path, reader);
            Console.Error.WriteLine("xenstream: " + name + ": " + e.Format());
            return Program.Invalid;
        }
        string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
        string TypeName(PageType t) => RecordNames.Upper(PageTypeNames.KsyName(t), (long)t);
        if (json)
        {
            using var j = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
            j.WriteStartObject();
            j.WriteNumber("pfn", pfn);
            j.WriteString("input", name);
            j.WriteNumber("pageSize", history.PageSize);
            j.WriteStartArray("sends");
            foreach (var s in history.Sends)
            {
                j.WriteStartObject();
                j.WriteNumber("record", s.RecordIndex);
                j.WriteNumber("offset", s.Offset);
                j.WriteNumber("round", s.Round);
                j.WriteString("type", TypeName(s.Type));
                j.WriteBoolean("contents", s.HasData);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            if (history.LastContents is { } c) j.WriteString("lastContents", Convert.ToHexStringLower(c));
            else j.WriteNull("lastContents");
            j.WriteEndObject();
            j.Flush();
            stdout.Write("\n"u8);
            stdout.Flush();
            return Program.Ok;
        }
        using var w = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        w.WriteLine(history.Sends.Count == 0
            ? $"pfn {Hex(pfn)}: no PAGE_DATA record of {name} names it"
            : string.Create(CultureInfo.InvariantCulture, $"pfn {Hex(pfn)}: named by {history.Sends.Count} PAGE_DATA record(s) of {name}"));
        foreach (var s in history.Sends)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  libxc record {s.RecordIndex} at {Hex((ulong)s.Offset)}{(reader.Checkpointed ? ", round " + s.Round : "")}: {TypeName(s.Type)}{(s.HasData ? ", with contents" : ", no contents")}"));
        if (history.LastContents is { } contents)
        {
            var lastWith = history.Sends.Last(s => s.HasData);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"last contents ({contents.Length} octets, from libxc record {lastWith.RecordIndex}):"));
            HexDump(w, contents);
        }
        else if (history.Sends.Count > 0) w.WriteLine("no contents: the page was never sent with its contents");
        w.Flush();
        return Program.Ok;
    }

    /// <summary>hexdump -C's layout: offset, 16 octets in hex, the printable ones; runs of the same line as one '*'.</summary>
    internal static void HexDump(TextWriter w, ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(80);
        ReadOnlySpan<byte> previous = default;
        bool starred = false;
        for (int at = 0; at < data.Length; at += 16)
        {
            var line = data.Slice(at, Math.Min(16, data.Length - at));
            if (at > 0 && line.Length == 16 && line.SequenceEqual(previous))
            {
                if (!starred) w.WriteLine("*");
                starred = true;
                continue;
            }
            starred = false;
            previous = line;
            sb.Clear().Append(at.ToString("x8", CultureInfo.InvariantCulture)).Append(' ');
            for (int i = 0; i < 16; i++)
            {
                if (i == 8) sb.Append(' ');
                sb.Append(i < line.Length ? " " + line[i].ToString("x2", CultureInfo.InvariantCulture) : "   ");
            }
            sb.Append("  |");
            foreach (var b in line) sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            w.WriteLine(sb.Append('|').ToString());
        }
        w.WriteLine(data.Length.ToString("x8", CultureInfo.InvariantCulture));
    }

    public static int Run(string? path, bool sample, bool json, long maxRecord, Stream stdout)
        => RunWith(path, sample, json, null, maxRecord, stdout);

    /// <summary>dump --config: the configuration text as saved (JSON or xl syntax), nothing else.</summary>
    public static int Config(string? path, bool sample, ImageKind? format, long maxRecord, Stream stdout)
    {
        var options = Program.StreamOptions(maxRecord);
        using var input = Inputs.Open(path, sample, out var name);
        using var reader = new XenReader(input, format, options);
        if (reader.Format != ImageKind.XlSaveFile)
            throw new UsageException(name + ": a " + ImageDetector.Describe(reader.Format) + " carries no domain configuration (only an xl save file does)");
        try
        {
            reader.MoveNext(build: false);
        }
        catch (FgException e)
        {
            Console.Error.WriteLine("xenstream: " + name + ": " + e.Format());
            return Program.Invalid;
        }
        var config = reader.XlHeader!.Header.OptionalData.Config;
        if (config is null)
        {
            Console.Error.WriteLine("xenstream: " + name + ": the xl header carries no configuration (its optional data is empty)");
            return Program.Invalid;
        }
        var bytes = new System.Text.UTF8Encoding(false).GetBytes(config.EndsWith('\n') ? config : config + "\n");
        stdout.Write(bytes);
        stdout.Flush();
        return Program.Ok;
    }

    public static int RunWith(string? path, bool sample, bool json, ImageKind? format, long maxRecord, Stream stdout)
    {
        var options = Program.StreamOptions(maxRecord);
        using var input = Inputs.Open(path, sample, out var name);
        using var sink = json ? new JsonSink(stdout) : (ISink)new TextSink(stdout);
        long errors = 0;
        void Note(System.Collections.Generic.IReadOnlyList<FgViolation> vs)
        {
            foreach (var v in vs)
            {
                if (v.Severity == FgSeverity.Error) errors++;
                sink.Violation(v);
            }
        }
        using var reader = new XenReader(input, format, options);
        try
        {
            int complete = 0;
            // PAGE_DATA is summarised from its octets: no model is built for it.
            while (reader.MoveNext(RecordSummary.NeedsModel))
            {
                if (reader.Kind != XenItemKind.Record) sink.Header(reader);
                else sink.Record(reader);
                Note(reader.Violations);
                if (reader.CompleteRounds != complete) sink.Checkpoint(complete = reader.CompleteRounds);
            }
            Note(reader.Violations);
        }
        catch (FgException e)
        {
            Program.RefuseLegacy(e, name, path, reader);
            sink.Error(e);
            sink.End(reader, false);
            return Program.Invalid;
        }
        sink.End(reader, errors == 0);
        return errors == 0 ? Program.Ok : Program.Invalid;
    }

    /// <summary>An HVM_CONTEXT's save records or a PV vCPU's registers, as lines (none for other records).</summary>
    private static System.Collections.Generic.IReadOnlyList<string> VcpuState(XenReader r)
        => r.Layer == XenLayer.Libxc && r.LibxcType is RecordType.HvmContext or RecordType.X86PvVcpuBasic
            ? VcpuDecoder.Describe(r.LibxcType, r.CurrentBytes[Math.Min(r.CurrentBytes.Length, FormatGen.Xen.Libxc.Record.Layout.BodyOffset)..], r.Libxc!.LittleEndian, r.Libxc.GuestWidth)
            : [];

    private interface ISink : IDisposable
    {
        void Header(XenReader r);
        void Record(XenReader r);
        void Checkpoint(int complete);
        void Violation(FgViolation v);
        void Error(FgException e);
        void End(XenReader r, bool valid);
    }

    /// <summary>
    /// Lines of text, formatted as UTF-8 straight into one buffer that goes to
    /// standard output when it fills: a record's line makes no string.
    /// </summary>
    private sealed class TextSink(Stream stdout) : ISink
    {
        private const int FlushAt = 1 << 16;
        private readonly ArrayBufferWriter<byte> _out = new(FlushAt + (1 << 12));
        private bool _table;

        private void Line(string text)
        {
            var span = _out.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length) + 1);
            int n = Encoding.UTF8.GetBytes(text, span);
            span[n] = (byte)'\n';
            _out.Advance(n + 1);
            if (_out.WrittenCount >= FlushAt) Flush();
        }

        public void Header(XenReader r)
        {
            var indent = new string(' ', 2 * r.Depth);
            switch (r.Kind)
            {
                case XenItemKind.XlHeader:
                    Line(indent + Program.DescribeXl(r.XlHeader!));
                    if (r.XlHeader!.Header.OptionalData.Config is { } config)
                        foreach (var line in config.TrimEnd('\n').Split('\n')) Line(indent + "  | " + line);
                    break;
                case XenItemKind.LibxlHeader:
                    Line(indent + Program.DescribeLibxl(r.LibxlHeader!.Value));
                    break;
                case XenItemKind.LibxcHeader:
                    Line(indent + Program.DescribeLibxc(r.Libxc!));
                    break;
            }
            if (!_table && r.Kind != XenItemKind.XlHeader)
            {
                Line($"{"index",8} {"offset",-12} {"type",-26} {"length",10}  summary");
                _table = true;
            }
        }

        /// <summary>"{indent}{index,8} 0x{offset:x10} {type,-26} {length,10}  {summary}".</summary>
        public void Record(XenReader r)
        {
            var name = TypeColumn(r.Name);
            int indent = 2 * r.Depth;
            var span = _out.GetSpan(indent + 64 + name.Length);
            span[..indent].Fill((byte)' ');
            int at = indent;
            at += RightAligned(span[at..], r.Index, 8);
            " 0x"u8.CopyTo(span[at..]);
            at += 3;
            Utf8Formatter.TryFormat(r.Offset, span[at..], out int n, new StandardFormat('x', 10));
            at += n;
            span[at++] = (byte)' ';
            name.CopyTo(span[at..]);
            at += name.Length;
            at += RightAligned(span[at..], r.BodyLength, 10);
            span[at++] = (byte)' ';
            span[at++] = (byte)' ';
            _out.Advance(at);
            RecordSummary.Write(r, _out);
            _out.Write("\n"u8);
            // The vCPU state, a line each below the record, under its summary's column.
            foreach (var line in VcpuState(r))
            {
                var text = Encoding.UTF8.GetBytes(line);
                var s = _out.GetSpan(indent + 50 + text.Length);
                s[..(indent + 50)].Fill((byte)' ');
                text.CopyTo(s[(indent + 50)..]);
                s[indent + 50 + text.Length] = (byte)'\n';
                _out.Advance(indent + 51 + text.Length);
            }
            if (_out.WrittenCount >= FlushAt) Flush();
        }

        // The last type name as its column: UTF-8, padded to 26 characters, and the space after it
        // (the reader names each type with one string).
        private string? _typeName;
        private byte[] _typeColumn = [];

        private ReadOnlySpan<byte> TypeColumn(string name)
        {
            if (!ReferenceEquals(name, _typeName))
            {
                _typeColumn = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{name,-26} "));
                _typeName = name;
            }
            return _typeColumn;
        }

        /// <summary>A number right-aligned in <paramref name="width"/> columns (as {value,width} formats it).</summary>
        private static int RightAligned(Span<byte> span, long value, int width)
        {
            Utf8Formatter.TryFormat(value, span, out int n);
            if (n >= width) return n;
            span[..n].CopyTo(span[(width - n)..]);
            span[..(width - n)].Fill((byte)' ');
            return width;
        }

        public void Checkpoint(int complete) => Line(string.Create(CultureInfo.InvariantCulture, $"--- checkpoint {complete} complete"));

        public void Violation(FgViolation v) => Line("  " + v);

        public void Error(FgException e) => Line("error: " + e.Format());

        public void End(XenReader r, bool valid) => Flush();

        private void Flush()
        {
            stdout.Write(_out.WrittenSpan);
            _out.ResetWrittenCount();
            stdout.Flush();
        }

        public void Dispose()
        {
            if (_out.WrittenCount > 0) Flush();
        }
    }

    /// <summary>
    /// One JSON document: "records" lists the records of every layer in wire
    /// order (each with its layer, depth and, when checkpointed, round), then
    /// the headers as objects with their offsets ("xl", "libxl", "image"), the
    /// checkpoints, the violations and the verdict.
    /// </summary>
    private sealed class JsonSink(Stream stdout) : ISink
    {
        private readonly Utf8JsonWriter _j = new(stdout, new JsonWriterOptions { Indented = false });
        private readonly System.Collections.Generic.List<FgViolation> _violations = new();
        private FgException? _error;

        private void Begin()
        {
            if (_j.CurrentDepth > 0) return;
            _j.WriteStartObject();
            _j.WriteStartArray("records");
        }

        // Where each header was: written with the header objects at the end.
        private readonly System.Collections.Generic.Dictionary<XenItemKind, (long Offset, long Length, int Depth)> _headers = new();

        public void Header(XenReader r) => _headers.TryAdd(r.Kind, (r.Offset, r.Length, r.Depth));

        private (long? Offset, long? Length, int? Depth) Place(XenItemKind kind)
            => _headers.TryGetValue(kind, out var at) ? (at.Offset, at.Length, at.Depth) : (null, null, null);

        // A record's object: {"layer","depth","round" (when checkpointed),"offset","index","type","length","summary"},
        // formatted as UTF-8 into a buffer kept for the next (the summary too) and handed to the writer whole.
        private readonly ArrayBufferWriter<byte> _summary = new(1 << 10);
        private readonly ArrayBufferWriter<byte> _record = new(1 << 10);

        public void Record(XenReader r)
        {
            Begin();
            _summary.ResetWrittenCount();
            RecordSummary.Write(r, _summary);
            var summary = Escaped(_summary.WrittenSpan);
            var name = TypeJson(r.Name);
            _record.ResetWrittenCount();
            var span = _record.GetSpan(160 + name.Length + summary.Length);
            int at = Put(span, 0, r.Layer switch { XenLayer.Xl => "{\"layer\":\"xl\",\"depth\":"u8, XenLayer.Libxl => "{\"layer\":\"libxl\",\"depth\":"u8, _ => "{\"layer\":\"libxc\",\"depth\":"u8 });
            at = Number(span, at, r.Depth);
            if (r.Checkpointed)
            {
                at = Put(span, at, ",\"round\":"u8);
                at = Number(span, at, r.Round);
            }
            at = Put(span, at, ",\"offset\":"u8);
            at = Number(span, at, r.Offset);
            at = Put(span, at, ",\"index\":"u8);
            at = Number(span, at, r.Index);
            at = Put(span, at, ",\"type\":\""u8);
            at = Put(span, at, name);
            at = Put(span, at, "\",\"length\":"u8);
            at = Number(span, at, r.BodyLength);
            at = Put(span, at, ",\"summary\":\""u8);
            at = Put(span, at, summary);
            at = Put(span, at, "\""u8);
            var state = VcpuState(r);
            if (state.Count == 0)
            {
                at = Put(span, at, "}"u8);
                _j.WriteRawValue(span[..at], skipInputValidation: true);
            }
            else
            {
                // Rare (a record or two a checkpoint): the decoded vCPU state as an array of lines.
                var sb = new StringBuilder(Encoding.UTF8.GetString(span[..at])).Append(",\"decoded\":[");
                for (int i = 0; i < state.Count; i++)
                    sb.Append(i > 0 ? "," : "").Append('"').Append(JsonEncodedText.Encode(state[i]).Value).Append('"');
                _j.WriteRawValue(sb.Append("]}").ToString(), skipInputValidation: true);
            }
            // Flushed by the buffer, not by the record (a write to standard output each).
            if (_j.BytesPending > 1 << 16) _j.Flush();
        }

        /// <summary>
        /// The octets a JSON string holds as they are, by the writer's own
        /// escaping (printable ASCII but " \ &lt; &gt; &amp; ' + `): a string of only
        /// these is copied, any other escaped by JsonEncodedText (the writer's default escaping).
        /// </summary>
        private static readonly SearchValues<byte> Plain = SearchValues.Create(PlainOctets());

        private static byte[] PlainOctets()
        {
            var plain = new System.Collections.Generic.List<byte>();
            for (byte b = 0x20; b < 0x7f; b++)
                if (JsonEncodedText.Encode(new[] { b }).EncodedUtf8Bytes is [var same] && same == b) plain.Add(b);
            return plain.ToArray();
        }

        // The last type name, as a JSON string's octets: the reader names each type with one string.
        private string? _typeName;
        private byte[] _typeJson = [];

        private ReadOnlySpan<byte> TypeJson(string name)
        {
            if (!ReferenceEquals(name, _typeName))
            {
                _typeJson = Escaped(Encoding.UTF8.GetBytes(name)).ToArray();
                _typeName = name;
            }
            return _typeJson;
        }

        private static ReadOnlySpan<byte> Escaped(ReadOnlySpan<byte> utf8)
            => utf8.IndexOfAnyExcept(Plain) < 0 ? utf8 : JsonEncodedText.Encode(utf8).EncodedUtf8Bytes;

        private static int Put(Span<byte> span, int at, ReadOnlySpan<byte> text)
        {
            text.CopyTo(span[at..]);
            return at + text.Length;
        }

        private static int Number(Span<byte> span, int at, long value)
        {
            Utf8Formatter.TryFormat(value, span[at..], out int n);
            return at + n;
        }

        public void Checkpoint(int complete) { }

        private static string Severity(FgSeverity severity) => severity switch { FgSeverity.Error => "error", FgSeverity.Warning => "warning", _ => "info" };

        public void Violation(FgViolation v) => _violations.Add(v);

        public void Error(FgException e) => _error = e;

        public void End(XenReader r, bool valid)
        {
            Begin();
            _j.WriteEndArray();
            Headers(r);
            _j.WritePropertyName("violations");
            JsonSerializer.Serialize(_j, _violations.ConvertAll(v => new ViolationJson(Severity(v.Severity), v.Rule, v.RecordIndex, v.RecordName,
                v.FieldPath, v.Offset, v.Expected, v.Actual, v.Description, v.More > 0 ? v.More : null)), DumpJson.Default.ListViolationJson);
            if (_error is { } e)
            {
                _j.WritePropertyName("error");
                JsonSerializer.Serialize(_j, new ErrorJson(e.Rule, e.RecordIndex, e.RecordName, e.FieldPath, e.Offset, e.DetailInContext), DumpJson.Default.ErrorJson);
            }
            _j.WriteBoolean("valid", valid && _error is null);
            _j.WriteEndObject();
            _j.Flush();
            stdout.WriteByte((byte)'\n');
            stdout.Flush();
        }

        /// <summary>The format, the headers read and the checkpoints.</summary>
        private void Headers(XenReader r)
        {
            _j.WriteString("format", r.Format switch { ImageKind.XlSaveFile => "xl", ImageKind.Libxl => "libxl", ImageKind.Libxc => "libxc", _ => "unknown" });
            if (r.XlHeader is { } xl)
            {
                var h = xl.Header;
                var (offset, length, depth) = Place(XenItemKind.XlHeader);
                _j.WritePropertyName("xl");
                JsonSerializer.Serialize(_j, new XlJson(xl.ByteOrder.Span[0] != 4, h.MandatoryFlags, h.OptionalFlags, h.ConfigIsJson, h.StreamV2, offset, length, depth, h.OptionalData.Config), DumpJson.Default.XlJson);
            }
            if (r.LibxlHeader is { } lh)
            {
                var (offset, length, depth) = Place(XenItemKind.LibxlHeader);
                _j.WritePropertyName("libxl");
                JsonSerializer.Serialize(_j, new LibxlJson(2, lh.BigEndian, lh.Legacy, offset, length, depth), DumpJson.Default.LibxlJson);
            }
            if (r.Libxc is { } x && x.HeadersRead)
            {
                var (offset, length, depth) = Place(XenItemKind.LibxcHeader);
                var dh = x.DomainHeader;
                _j.WritePropertyName("image");
                JsonSerializer.Serialize(_j, new ImageJson(x.ImageHeader.Version, !x.LittleEndian, RecordNames.Upper(dh.Type.KsyName(), (long)dh.Type), dh.PageShift, dh.XenMajor, dh.XenMinor,
                    offset, length, depth), DumpJson.Default.ImageJson);
            }
            _j.WritePropertyName("checkpoints");
            JsonSerializer.Serialize(_j, new CheckpointsJson(r.Checkpointed, r.Colo, r.CompleteRounds, r.EndedOnCheckpoint), DumpJson.Default.CheckpointsJson);
        }

        public void Dispose() => _j.Dispose();
    }
}

// The objects of `dump --json`, serialized by the source-generated context below (no reflection: AOT-safe).
// Property order is the output's; a null property is left out, except the xl configuration.
internal sealed record ViolationJson(string Severity, string Rule, long Record, string? RecordType, string Field, long Offset, string Expected, string Actual, string Message, long? More);

internal sealed record ErrorJson(string Rule, long Record, string? RecordType, string Field, long Offset, string Message);

internal sealed record XlJson(bool BigEndian, uint MandatoryFlags, uint OptionalFlags, bool ConfigIsJson, bool StreamV2, long? Offset, long? Length, int? Depth,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Config);

internal sealed record LibxlJson(int Version, bool BigEndian, bool Legacy, long? Offset, long? Length, int? Depth);

internal sealed record ImageJson(uint Version, bool BigEndian, string DomainType, ushort PageShift, uint XenMajor, uint XenMinor, long? Offset, long? Length, int? Depth);

internal sealed record CheckpointsJson(bool Checkpointed, bool Colo, int Complete, bool EndedOnCheckpoint);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(System.Collections.Generic.List<ViolationJson>), TypeInfoPropertyName = "ListViolationJson")]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorJson))]
[System.Text.Json.Serialization.JsonSerializable(typeof(XlJson))]
[System.Text.Json.Serialization.JsonSerializable(typeof(LibxlJson))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ImageJson))]
[System.Text.Json.Serialization.JsonSerializable(typeof(CheckpointsJson))]
internal sealed partial class DumpJson : System.Text.Json.Serialization.JsonSerializerContext;
