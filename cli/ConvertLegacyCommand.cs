using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;

namespace FormatGen.Cli;

/// <summary>
/// convert-legacy [-i] IN [-o] OUT [-w 32|64] [-g pv|hvm] [-f libxc|libxl] [-x] [--skip-qemu] [-v] [--syslog]:
/// translates a legacy (Xen 4.5 and earlier) image into a version 3 libxc
/// stream or a libxl stream, as Xen's convert-legacy-stream does, whose flags
/// it takes. The output appears only when the conversion succeeded.
/// </summary>
internal static class ConvertLegacyCommand
{
    public static Command Create()
    {
        var inArg = new Argument<string?>("input") { Description = "Legacy image, - for standard input, or a file descriptor number.", Arity = ArgumentArity.ZeroOrOne };
        var outArg = new Argument<string?>("output") { Description = "Where the converted stream goes, - for standard output, or a file descriptor number.", Arity = ArgumentArity.ZeroOrOne };
        var inOption = new Option<string?>("--in", "-i") { Description = "The input (convert-legacy-stream's -i); same as INPUT." };
        var outOption = new Option<string?>("--out", "-o") { Description = "The output (convert-legacy-stream's -o); same as OUTPUT." };
        var width = new Option<string?>("--width", "-w") { Description = "The saving toolstack's word size, 32 or 64 (default: from the image's octets 4-7)." };
        width.AcceptOnlyFromAmong("32", "64");
        // libxl's own call (libxl_convert_callout.c) says --guest, which Xen's converter takes as short for --guest-type.
        var guest = new Option<string?>("--guest-type", "-g", "--guest") { Description = "pv or hvm (default: from the image: a PV image has the extended-info marker)." };
        guest.AcceptOnlyFromAmong("pv", "hvm");
        var format = new Option<string>("--format", "-f") { Description = "The stream to write: libxc (a version 3 libxc stream, the default) or libxl (a libxl stream around it, as xl restores).", DefaultValueFactory = _ => "libxc" };
        format.AcceptOnlyFromAmong("libxc", "libxl");
        var xl = new Option<bool>("--xl", "-x") { Description = "The input starts with an xl header (found without this flag too); copied, with the v2 flag set for -f libxl." };
        var skipQemu = new Option<bool>("--skip-qemu") { Description = "Leave out an HVM guest's device model record (libxc output)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Summarise what was read and written (to standard error when the output is standard output)." };
        var syslog = new Option<bool>("--syslog") { Description = "Send the summary and errors to syslog (tag xenstream) as well." };
        var cmd = new Command("convert-legacy", "Convert a legacy (Xen 4.5 and earlier) save image to a version 3 libxc or a libxl stream, byte for byte as Xen's convert-legacy-stream does; the result is verified as it is written.")
            { inArg, outArg, inOption, outOption, width, guest, format, xl, skipQemu, verbose, syslog };
        cmd.SetAction(p =>
        {
            var input = One("input", p.GetValue(inArg), p.GetValue(inOption)) ?? throw new UsageException("no input: give the legacy image as INPUT or with -i (- for standard input)");
            var output = One("output", p.GetValue(outArg), p.GetValue(outOption)) ?? throw new UsageException("no output: give it as OUTPUT or with -o (- for standard output)");
            var options = new LegacyOptions
            {
                ToolstackBits = p.GetValue(width) is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : null,
                Guest = p.GetValue(guest) switch { "pv" => GuestKind.Pv, "hvm" => GuestKind.Hvm, _ => null },
                Format = p.GetValue(format) == "libxl" ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
                XlHeader = p.GetValue(xl) ? true : null,
                SkipQemu = p.GetValue(skipQemu),
            };
            return Run(input, output, options, p.GetValue(verbose), p.GetValue(syslog));
        });
        return cmd;
    }

    private static string? One(string what, string? argument, string? option)
    {
        if (argument is not null && option is not null && argument != option)
            throw new UsageException("give the " + what + " once: as " + what.ToUpperInvariant() + " or with -" + what[0] + ", not both");
        return argument ?? option;
    }

    public static int Run(string input, string output, LegacyOptions options, bool verbose, bool syslog = false)
    {
        // The summary goes where the stream does not.
        TextWriter report = output == "-" || output == "1" ? Console.Error : Console.Out;
        using var log = syslog ? new SyslogWriter("xenstream") : null;
        void Line(string s)
        {
            if (verbose) report.WriteLine(s);
            log?.WriteLine(s);
        }
        options = options with { Log = verbose || syslog ? Line : null };
        using var source = Inputs.Open(input, sample: false, out var name);
        if (Inputs.SameFile(source, output)) throw new UsageException(output + ": is the input; the output must go elsewhere (the input is never modified)");
        using var interrupted = new Inputs.Interrupted { Farewell = "xenstream: interrupted; " + (IsStream(output) ? "the output is incomplete" : output + " was not written") };
        LegacyReport? result = null;
        try
        {
            WriteOutput(output, s => result = LegacyConverter.Convert(source, s, options, interrupted.Token), interrupted);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(interrupted.Farewell);
            return interrupted.ExitCode;
        }
        catch (FgException e)
        {
            var message = name + ": " + e.Format();
            Console.Error.WriteLine("xenstream: " + message);
            log?.WriteLine("error: " + message);
            Console.Error.WriteLine("xenstream: " + (IsStream(output) ? "the output is incomplete" : output + " was not written"));
            return Program.Invalid;
        }
        if (result!.TrailingData)
            Console.Error.WriteLine("xenstream: warning: " + name + ": the input goes on after the legacy image; only the image was converted (a legacy Remus stream's later checkpoints are not)");
        return Program.Ok;
    }

    private static bool IsStream(string output) => output == "-" || Inputs.IsFd(output);

    /// <summary>'-', a file descriptor number (convert-legacy-stream's -o takes one), or a file written beside and renamed.</summary>
    private static void WriteOutput(string output, Action<Stream> write, Inputs.Interrupted interrupted)
    {
        if (output != "-" && Inputs.IsFd(output))
        {
            int fd = int.Parse(output, CultureInfo.InvariantCulture);
            using var stream = Outputs.Descriptor(fd);
            write(stream);
            return;
        }
        Inputs.WriteAtomically(output, write, interrupted);
    }
}
