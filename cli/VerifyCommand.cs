using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Cli;

/// <summary>
/// verify [FILE|-] [-v]: checks every grammar and layout rule, like Xen's
/// verify-stream-v2, in one pass over a file or pipe.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var input = Program.InputArgument();
        var sample = Program.SampleOption();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "One line per record (runs of PAGE_DATA squashed)." };
        var maxRecord = Program.MaxRecordOption();
        var cmd = new Command("verify", "Check a libxc stream against every rule of the format and of Xen's restore; exit 0 if valid, 1 if not.") { input, sample, verbose, maxRecord };
        cmd.SetAction(p => Run(p.GetValue(input), p.GetValue(sample), p.GetValue(verbose), p.GetValue(maxRecord)!, Console.Out));
        return cmd;
    }

    public static int Run(string? path, bool sample, bool verbose, string maxRecord, TextWriter output)
    {
        var options = Program.StreamOptions(maxRecord);
        using var input = Inputs.Open(path, sample, out var name);
        var tally = new Tally(output);
        var run = new PageRun(output);
        var progress = Progress.Start(name);
        LibxcReader? reader = null;
        try
        {
            reader = new LibxcReader(Program.ExpectLibxc(input, name), options);
            reader.ReadHeaders();
            tally.Add(reader.Violations, run);
            var ih = reader.ImageHeader;
            var dh = reader.DomainHeader;
            if (verbose)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"image: libxc version {ih.Version}, {(reader.LittleEndian ? "little" : "big")}-endian; domain {RecordNames.UpperSnake(dh.Type.ToString())}, page size {1L << dh.PageShift}, Xen {dh.XenMajor}.{dh.XenMinor}"));
            while (reader.MoveNext(build: false))
            {
                if (verbose)
                {
                    if (reader.Type == RecordType.PageData) run.Add(reader.Index, reader.Offset, PageData.PeekCount(reader.CurrentBytes[Record.Layout.BodyOffset..], reader.LittleEndian));
                    else
                    {
                        run.Flush();
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{reader.Index,8} 0x{reader.Offset:x10} {RecordNames.Of(reader.Type),-26} {reader.BodyLength,10}"));
                    }
                }
                tally.Add(reader.Violations, run);
                tally.Records++;
                progress.Report(reader.Position);
            }
            run.Flush();
            if (reader.HasTrailingData())
                tally.Add(new[] { new FgViolation("trailing-data", FgSeverity.Warning, "(end)", reader.Position, "nothing after END", "more octets", "Data follows the END record.") }, run);
        }
        catch (FgException e)
        {
            run.Flush();
            progress.Done();
            output.WriteLine("error: " + e.Format());
            output.WriteLine($"INVALID: {name}: stopped at offset {e.Offset} after {tally.Records} record(s); {tally.Errors + 1} error(s), {tally.Warnings} warning(s)");
            return Program.Invalid;
        }
        finally
        {
            reader?.Dispose();
        }
        progress.Done();
        var verdict = tally.Errors == 0 ? "VALID" : "INVALID";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{verdict}: {name}: {tally.Records} records, {reader!.Position} octets; {tally.Errors} error(s), {tally.Warnings} warning(s)"));
        return tally.Errors == 0 ? Program.Ok : Program.Invalid;
    }

    private sealed class Tally(TextWriter output)
    {
        public long Records;
        public long Errors;
        public long Warnings;

        public void Add(System.Collections.Generic.IReadOnlyList<FgViolation> violations, PageRun run)
        {
            if (violations.Count == 0) return;
            run.Flush();
            foreach (var v in violations)
            {
                if (v.Severity == FgSeverity.Error) Errors++;
                else if (v.Severity == FgSeverity.Warning) Warnings++;
                output.WriteLine(v.ToString());
            }
        }
    }

    /// <summary>Squashes consecutive PAGE_DATA records into one line.</summary>
    private sealed class PageRun(TextWriter output)
    {
        private long _first = -1, _last, _offset, _pfns;

        public void Add(long index, long offset, uint count)
        {
            if (_first < 0) { _first = index; _offset = offset; _pfns = 0; }
            _last = index;
            _pfns += count;
        }

        public void Flush()
        {
            if (_first < 0) return;
            long n = _last - _first + 1;
            var idx = n == 1 ? _first.ToString(CultureInfo.InvariantCulture) : $"{_first}-{_last}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{idx,8} 0x{_offset:x10} {"PAGE_DATA" + (n > 1 ? " x" + n : ""),-26} {_pfns,10} pfns"));
            _first = -1;
        }
    }
}
