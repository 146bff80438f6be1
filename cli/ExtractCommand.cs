using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;

namespace FormatGen.Cli;

/// <summary>
/// extract IMAGE -o OUT [--format raw|elf] [--checkpoint N]: the guest's memory
/// (and, in an ELF core file, its vCPUs' registers) out of any image xenstream
/// reads, a legacy one through the converter. The output appears only when the
/// extraction succeeded.
/// </summary>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var input = Program.InputArgument();
        var output = new Option<string?>("--output", "-o") { Description = "The file to write (written beside and renamed into place when done; a regular file: it is written at offsets)." };
        var format = new Option<string>("--format") { Description = "raw: a sparse image, pfn N at offset N x page size; elf: an ELF64 core file (PT_LOAD per run of pfns, NT_PRSTATUS per vCPU) that gdb, crash and readelf open.", DefaultValueFactory = _ => "raw" };
        format.AcceptOnlyFromAmong("raw", "elf");
        var checkpoint = new Option<int?>("--checkpoint") { Description = "The memory as of the end of checkpoint N (1 = the first) of a checkpointed (Remus/COLO) stream; default: the end of the stream." };
        var inputFormat = new Option<string?>("--input-format") { Description = "Read the input as libxc, libxl or xl instead of detecting its format." };
        inputFormat.AcceptOnlyFromAmong("libxc", "libxl", "xl");
        var width = new Option<string?>("--width", "-w") { Description = "For a legacy image: the saving toolstack's word size, 32 or 64 (default: from its octets)." };
        width.AcceptOnlyFromAmong("32", "64");
        var guest = new Option<string?>("--guest-type", "-g") { Description = "For a legacy image: pv or hvm (default: from its octets)." };
        guest.AcceptOnlyFromAmong("pv", "hvm");
        var sample = Program.SampleOption();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing but errors." };
        var maxRecord = Program.MaxRecordOption();
        var cmd = new Command("extract", "Write a Xen image's guest memory as a sparse raw image or an ELF core file with the vCPUs' registers; each pfn's last sent contents win, pages never sent are holes.")
            { input, output, format, checkpoint, inputFormat, width, guest, sample, quiet, maxRecord };
        cmd.SetAction(p =>
        {
            var target = p.GetValue(output) ?? throw new UsageException("no output: give the file to write with -o");
            if (p.GetValue(checkpoint) is < 1) throw new UsageException("--checkpoint counts from 1 (the first checkpoint)");
            var options = new ExtractOptions
            {
                Format = p.GetValue(format) == "elf" ? GuestMemoryFormat.Elf : GuestMemoryFormat.Raw,
                Checkpoint = p.GetValue(checkpoint),
                Input = Program.ParseFormat(p.GetValue(inputFormat)),
                Stream = Program.StreamOptions(p.GetValue(maxRecord)),
                Legacy = new LegacyOptions
                {
                    ToolstackBits = p.GetValue(width) is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : null,
                    Guest = p.GetValue(guest) switch { "pv" => GuestKind.Pv, "hvm" => GuestKind.Hvm, _ => null },
                },
            };
            return Run(p.GetValue(input), p.GetValue(sample), target, options, p.GetValue(quiet) ? TextWriter.Null : Console.Out);
        });
        return cmd;
    }

    private static string Mib(long octets) => (octets / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";

    public static int Run(string? path, bool sample, string output, ExtractOptions options, TextWriter report)
    {
        if (output == "-" || Inputs.IsFd(output)) throw new UsageException("extract writes its output at offsets: give a file with -o, not standard output or a descriptor");
        if (Directory.Exists(output)) throw new UsageException(output + ": is a directory");
        using var source = Inputs.Open(path, sample, out var name);
        if (Inputs.SameFile(source, output)) throw new UsageException(output + ": is the input; the output must go elsewhere (the input is never modified)");
        using var interrupted = new Inputs.Interrupted { Farewell = "xenstream: interrupted; " + output + " was not written" };
        ExtractReport? result = null;
        try
        {
            Inputs.WriteAtomically(output, s =>
            {
                if (s is not FileStream fs || !fs.CanSeek) throw new UsageException(output + ": is not a regular file; extract writes at offsets");
                fs.Flush();
                result = GuestMemory.Extract(source, fs.SafeFileHandle, options, interrupted.Token);
            }, interrupted);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(interrupted.Farewell);
            return interrupted.ExitCode;
        }
        catch (FgException e)
        {
            Console.Error.WriteLine("xenstream: " + name + ": " + e.Format());
            Console.Error.WriteLine("xenstream: " + output + " was not written");
            return Program.Invalid;
        }
        var r = result!;
        int errors = r.Violations.Count(v => v.Severity == FgSeverity.Error);
        foreach (var v in r.Violations)
            Console.Error.WriteLine("xenstream: " + name + ": " + v);
        var what = r.Checkpoint > 0 ? string.Create(CultureInfo.InvariantCulture, $"as of checkpoint {r.Checkpoint}") : "as of the end of the stream";
        report.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{output}: {(r.Format == GuestMemoryFormat.Elf ? "ELF core file" : "raw image")} of {r.Pages} page(s) of {r.PageSize} octets ({Mib(r.Pages * r.PageSize)}) {what}, highest pfn {(r.HighestPfn is { } h ? "0x" + h.ToString("x", CultureInfo.InvariantCulture) : "none")}, {r.OutputLength} octets long"));
        if (r.PagesSent > r.Pages) report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.PagesSent - r.Pages} page(s) sent again in later rounds: their last contents are written"));
        if (r.PagesWithoutData > 0) report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.PagesWithoutData} pfn(s) sent without contents (XTAB, BROKEN, XALLOC): holes"));
        report.WriteLine(r.Vcpus.Count == 0 ? "  no vCPU registers found"
            : string.Create(CultureInfo.InvariantCulture, $"  registers of {r.Vcpus.Count} vCPU(s) ({r.Vcpus[0].Source}){(r.Format == GuestMemoryFormat.Elf ? ": one NT_PRSTATUS note each" : "; --format elf writes them")}"));
        if (errors > 0)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xenstream: {name}: breaks {errors} rule(s); the memory was extracted as the stream has it"));
            return Program.Invalid;
        }
        return Program.Ok;
    }
}
