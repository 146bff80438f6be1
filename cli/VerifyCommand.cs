using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Cli;

/// <summary>
/// verify [FILE|-] [-v] [-q] [-f libxc|libxl|xl] [-i FILE|FD] [--syslog]:
/// checks every grammar and layout rule of every layer, in one pass over a
/// file or pipe. Takes the flags of Xen's verify-stream-v2 too.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var input = Program.InputArgument();
        var sample = Program.SampleOption();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "One line per header and record (runs of PAGE_DATA squashed), and each checkpoint." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing; the exit code tells (as verify-stream-v2 -q)." };
        var format = Program.FormatOption();
        var inOption = new Option<string?>("--in", "-i") { Description = "Input FILE or file descriptor number (verify-stream-v2's -i); same as the FILE argument." };
        var syslog = new Option<bool>("--syslog") { Description = "Send the report to syslog (tag xenstream) instead of standard output; errors still go to standard error." };
        var maxRecord = Program.MaxRecordOption();
        var cmd = new Command("verify", "Check a Xen image (xl save file, libxl or libxc stream, checkpointed or not) against every rule of its formats and of Xen's restore; exit 0 if valid, 1 if not.")
            { input, sample, verbose, quiet, format, inOption, syslog, maxRecord };
        cmd.SetAction(p =>
        {
            var path = Program.OneInput(p.GetValue(input), p.GetValue(inOption));
            var options = new Options(p.GetValue(verbose), p.GetValue(quiet), Program.ParseFormat(p.GetValue(format)), p.GetValue(maxRecord));
            // Nothing to clean up: a signal ends the check at once, said unless -q.
            using var interrupted = new Inputs.Interrupted { Grace = TimeSpan.Zero, Farewell = options.Quiet ? null : "xenstream: interrupted; the check did not finish" };
            if (p.GetValue(syslog))
            {
                using var log = new SyslogWriter("xenstream");
                return RunWith(path, p.GetValue(sample), options, log);
            }
            return RunWith(path, p.GetValue(sample), options, options.Quiet ? TextWriter.Null : Console.Out);
        });
        return cmd;
    }

    public sealed record Options(bool Verbose = false, bool Quiet = false, ImageKind? Format = null, long MaxRecord = 128L << 20);

    public static int Run(string? path, bool sample, bool verbose, long maxRecord, TextWriter output)
        => RunWith(path, sample, new Options(verbose, MaxRecord: maxRecord), output);

    public static int RunWith(string? path, bool sample, Options o, TextWriter output)
    {
        var options = Program.StreamOptions(o.MaxRecord);
        using var input = Inputs.Open(path, sample, out var name);
        var tally = new Tally(output);
        var run = new PageRun(output);
        var progress = o.Quiet ? Progress.None : Progress.Start(name);
        using var reader = new XenReader(input, o.Format, options);
        try
        {
            int complete = 0;
            while (reader.MoveNext(build: false))
            {
                if (o.Verbose) Line(reader, run, output);
                tally.Add(reader.Violations, run);
                if (reader.CompleteRounds != complete)
                {
                    complete = reader.CompleteRounds;
                    if (o.Verbose) { run.Flush(); output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- checkpoint {complete} complete")); }
                }
                if (reader.Kind == XenItemKind.Record) tally.Count(reader.Layer);
                progress.Report(reader.Position);
            }
            run.Flush();
            tally.Add(reader.Violations, run);
        }
        catch (FgException e)
        {
            run.Flush();
            progress.Done();
            Program.RefuseLegacy(e, name, path, reader);
            output.WriteLine("error: " + e.Format());
            if (output is SyslogWriter { Connected: true } && !o.Quiet) Console.Error.WriteLine("xenstream: " + name + ": " + e.Format());
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"INVALID: {name}: stopped at offset {e.Offset} after {tally.Records} record(s){Rounds(reader)}; {tally.Errors + 1} error(s), {tally.Warnings} warning(s)"));
            return Program.Invalid;
        }
        progress.Done();
        var verdict = tally.Errors == 0 ? "VALID" : "INVALID";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{verdict}: {name}: {ImageDetector.Describe(reader.Format)}, {tally.Describe()}, {reader.Position} octets{Rounds(reader)}; {tally.Errors} error(s), {tally.Warnings} warning(s)"));
        if (tally.Errors > 0 && output is SyslogWriter { Connected: true } && !o.Quiet) Console.Error.WriteLine("xenstream: " + name + ": INVALID (" + tally.Errors + " error(s))");
        return tally.Errors == 0 ? Program.Ok : Program.Invalid;
    }

    private static string Rounds(XenReader r) => !r.Checkpointed ? ""
        : string.Create(CultureInfo.InvariantCulture, $"; checkpointed{(r.Colo ? " (COLO)" : "")}, {r.CompleteRounds} checkpoint(s) complete");

    /// <summary>The verbose line of an item: headers in words, records in a table indented by their nesting.</summary>
    private static void Line(XenReader r, PageRun run, TextWriter output)
    {
        var indent = new string(' ', 2 * r.Depth);
        switch (r.Kind)
        {
            case XenItemKind.XlHeader:
                run.Flush();
                output.WriteLine(indent + Program.DescribeXl(r.XlHeader!));
                return;
            case XenItemKind.LibxlHeader:
                run.Flush();
                output.WriteLine(indent + Program.DescribeLibxl(r.LibxlHeader!.Value));
                return;
            case XenItemKind.LibxcHeader:
                run.Flush();
                output.WriteLine(indent + Program.DescribeLibxc(r.Libxc!));
                return;
        }
        if (r.Layer == XenLayer.Libxc && r.LibxcType == RecordType.PageData)
        {
            run.Add(indent, r.Index, r.Offset, PageData.PeekCount(r.CurrentBytes[Record.Layout.BodyOffset..], r.Libxc!.LittleEndian));
            return;
        }
        run.Flush();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}{r.Index,8} 0x{r.Offset:x10} {r.Name,-26} {r.BodyLength,10}"));
    }

    private sealed class Tally(TextWriter output)
    {
        public long Records, Libxl, Libxc;
        public long Errors;
        public long Warnings;

        public void Count(XenLayer layer)
        {
            Records++;
            if (layer == XenLayer.Libxl) Libxl++;
            else Libxc++;
        }

        public string Describe() => Libxl == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Records} records")
            : string.Create(CultureInfo.InvariantCulture, $"{Records} records ({Libxl} libxl, {Libxc} libxc)");

        public void Add(IReadOnlyList<FgViolation> violations, PageRun run)
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
        private string _indent = "";

        public void Add(string indent, long index, long offset, uint count)
        {
            if (_first < 0) { _first = index; _offset = offset; _pfns = 0; _indent = indent; }
            _last = index;
            _pfns += count;
        }

        public void Flush()
        {
            if (_first < 0) return;
            long n = _last - _first + 1;
            var idx = n == 1 ? _first.ToString(CultureInfo.InvariantCulture) : $"{_first}-{_last}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_indent}{idx,8} 0x{_offset:x10} {"PAGE_DATA" + (n > 1 ? " x" + n : ""),-26} {_pfns,10} pfns"));
            _first = -1;
        }
    }
}
