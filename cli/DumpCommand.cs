using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text.Json;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Cli;

/// <summary>dump [FILE|-] [--json]: the record table with a one-line summary of each record.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var input = Program.InputArgument();
        var sample = Program.SampleOption();
        var json = new Option<bool>("--json") { Description = "Write JSON (one document: image, records, violations)." };
        var maxRecord = Program.MaxRecordOption();
        var cmd = new Command("dump", "List the records of a libxc stream: index, offset, type, length and a summary.") { input, sample, json, maxRecord };
        cmd.SetAction(p => Run(p.GetValue(input), p.GetValue(sample), p.GetValue(json), p.GetValue(maxRecord)!, Console.OpenStandardOutput()));
        return cmd;
    }

    public static int Run(string? path, bool sample, bool json, string maxRecord, Stream stdout)
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
        LibxcReader? reader = null;
        try
        {
            reader = new LibxcReader(Program.ExpectLibxc(input, name), options);
            reader.ReadHeaders();
            sink.Header(reader);
            Note(reader.Violations);
            while (reader.MoveNext(build: true))
            {
                var rec = reader.Current!;
                sink.Record(reader.Index, reader.Offset, RecordNames.Of(reader.Type), reader.BodyLength, RecordSummary.Of(rec));
                Note(reader.Violations);
            }
        }
        catch (FgException e)
        {
            sink.Error(e);
            sink.End(false);
            return Program.Invalid;
        }
        finally
        {
            reader?.Dispose();
        }
        sink.End(errors == 0);
        return errors == 0 ? Program.Ok : Program.Invalid;
    }

    private interface ISink : IDisposable
    {
        void Header(LibxcReader r);
        void Record(long index, long offset, string type, uint length, string summary);
        void Violation(FgViolation v);
        void Error(FgException e);
        void End(bool valid);
    }

    private sealed class TextSink(Stream stdout) : ISink
    {
        private readonly StreamWriter _w = new(stdout, new System.Text.UTF8Encoding(false), 1 << 16) { NewLine = "\n" };

        public void Header(LibxcReader r)
        {
            var ih = r.ImageHeader;
            var dh = r.DomainHeader;
            _w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"image: libxc version {ih.Version}, {(r.LittleEndian ? "little" : "big")}-endian; domain {RecordNames.UpperSnake(dh.Type.ToString())}, page size {1L << dh.PageShift}, Xen {dh.XenMajor}.{dh.XenMinor}"));
            _w.WriteLine($"{"index",8} {"offset",-12} {"type",-26} {"length",10}  summary");
        }

        public void Record(long index, long offset, string type, uint length, string summary)
            => _w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index,8} 0x{offset:x10} {type,-26} {length,10}  {summary}"));

        public void Violation(FgViolation v) => _w.WriteLine("  " + v);

        public void Error(FgException e) => _w.WriteLine("error: " + e.Format());

        public void End(bool valid) => _w.Flush();

        public void Dispose() => _w.Dispose();
    }

    private sealed class JsonSink(Stream stdout) : ISink
    {
        private readonly Utf8JsonWriter _j = new(stdout, new JsonWriterOptions { Indented = false });
        private readonly System.Collections.Generic.List<FgViolation> _violations = new();
        private FgException? _error;

        public void Header(LibxcReader r)
        {
            _j.WriteStartObject();
            _j.WriteStartObject("image");
            _j.WriteNumber("version", r.ImageHeader.Version);
            _j.WriteBoolean("bigEndian", !r.LittleEndian);
            _j.WriteString("domainType", RecordNames.UpperSnake(r.DomainHeader.Type.ToString()));
            _j.WriteNumber("pageShift", r.DomainHeader.PageShift);
            _j.WriteNumber("xenMajor", r.DomainHeader.XenMajor);
            _j.WriteNumber("xenMinor", r.DomainHeader.XenMinor);
            _j.WriteEndObject();
            _j.WriteStartArray("records");
        }

        public void Record(long index, long offset, string type, uint length, string summary)
        {
            _j.WriteStartObject();
            _j.WriteNumber("index", index);
            _j.WriteNumber("offset", offset);
            _j.WriteString("type", type);
            _j.WriteNumber("length", length);
            _j.WriteString("summary", summary);
            _j.WriteEndObject();
            if (_j.BytesPending > 1 << 16) _j.Flush();
        }

        public void Violation(FgViolation v) => _violations.Add(v);

        public void Error(FgException e) => _error = e;

        public void End(bool valid)
        {
            if (_j.CurrentDepth == 0) { _j.WriteStartObject(); _j.WriteStartArray("records"); }
            _j.WriteEndArray();
            _j.WriteStartArray("violations");
            foreach (var v in _violations)
            {
                _j.WriteStartObject();
                _j.WriteString("severity", v.Severity.ToString().ToLowerInvariant());
                _j.WriteString("rule", v.Rule);
                _j.WriteNumber("record", v.RecordIndex);
                _j.WriteString("field", v.FieldPath);
                _j.WriteNumber("offset", v.Offset);
                _j.WriteString("expected", v.Expected);
                _j.WriteString("actual", v.Actual);
                _j.WriteString("message", v.Description);
                if (v.More > 0) _j.WriteNumber("more", v.More);
                _j.WriteEndObject();
            }
            _j.WriteEndArray();
            if (_error is not null)
            {
                _j.WriteStartObject("error");
                _j.WriteString("rule", _error.Rule);
                _j.WriteNumber("record", _error.RecordIndex);
                _j.WriteString("field", _error.FieldPath);
                _j.WriteNumber("offset", _error.Offset);
                _j.WriteString("message", _error.Detail);
                _j.WriteEndObject();
            }
            _j.WriteBoolean("valid", valid && _error is null);
            _j.WriteEndObject();
            _j.Flush();
            stdout.WriteByte((byte)'\n');
            stdout.Flush();
        }

        public void Dispose() => _j.Dispose();
    }
}
