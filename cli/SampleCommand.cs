using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;

namespace FormatGen.Cli;

/// <summary>sample --guest pv|hvm --memory SIZE [--version 2|3] [--big-endian] -o FILE|-</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var guest = new Option<string>("--guest") { Description = "pv or hvm.", Required = true };
        guest.AcceptOnlyFromAmong("pv", "hvm");
        var memory = Sizes.Option("--memory", "Guest memory, e.g. 256M or 1G.", required: true);
        var version = new Option<int>("--version") { Description = "Stream version: 2 or 3.", DefaultValueFactory = _ => 3 };
        version.AcceptOnlyFromAmong("2", "3");
        var big = new Option<bool>("--big-endian") { Description = "Write a big-endian stream (Xen itself only writes little-endian)." };
        var output = new Option<string>("--output", "-o") { Description = "Output file, or - for standard output.", Required = true };
        var wrap = new Option<string?>("--wrap") { Description = "Wrap the libxc stream: libxl (a libxl stream) or xl (a complete xl save file: xl header with the domain configuration, libxl stream)." };
        wrap.AcceptOnlyFromAmong("libxl", "xl");
        var checkpoints = new Option<int>("--checkpoints") { Description = "Write a checkpointed (Remus) stream of N rounds (needs --wrap)." };
        var pages = new Option<int>("--pages-per-record") { Description = "Pages per PAGE_DATA record, 1 to 1024 (Xen sends up to 1024).", DefaultValueFactory = _ => 1024 };
        var cmd = new Command("sample", "Write a realistic Xen image of a PV or HVM guest with the library's writers: a libxc stream, a libxl stream or an xl save file, plain or checkpointed.")
            { guest, memory, version, big, output, wrap, checkpoints, pages };
        cmd.SetAction(p => Run(p.GetValue(guest)!, p.GetValue(memory), p.GetValue(version), p.GetValue(big), p.GetValue(output)!, p.GetValue(wrap), p.GetValue(checkpoints), p.GetValue(pages)));
        return cmd;
    }

    public static int Run(string guest, long memory, int version, bool bigEndian, string output, string? wrap = null, int checkpoints = 0, int pagesPerRecord = 1024)
    {
        if (pagesPerRecord is < 1 or > 1024) throw new UsageException("--pages-per-record must be 1 to 1024");
        if (checkpoints < 0) throw new UsageException("--checkpoints cannot be negative");
        if (checkpoints > 0 && wrap is null) throw new UsageException("--checkpoints needs --wrap libxl or --wrap xl: a checkpointed stream is a libxl stream");
        var options = new SampleOptions
        {
            Guest = guest == "hvm" ? GuestKind.Hvm : GuestKind.Pv,
            MemoryBytes = memory,
            Version = (uint)version,
            BigEndian = bigEndian,
            Wrap = wrap switch { "libxl" => SampleWrap.Libxl, "xl" => SampleWrap.Xl, _ => SampleWrap.None },
            Checkpoints = checkpoints,
            PagesPerRecord = pagesPerRecord,
        };
        if (options.MemoryBytes < 4096) throw new UsageException("--memory must be at least one page (4096 octets)");
        if (options.MemoryBytes % 4096 != 0) throw new UsageException("--memory must be a multiple of the 4096-octet page");
        long size;
        try { size = LibxcSample.Size(options); }
        catch (ArgumentException e) { throw new UsageException("--memory: " + e.Message.Split(" (Parameter")[0]); }
        if (output != "-") CheckSpace(output, size);

        using var interrupted = new Inputs.Interrupted { Farewell = "xenstream: interrupted; " + (output == "-" ? "the output is incomplete" : output + " was not written") };
        var progress = Progress.Start(output == "-" ? "sample" : output, size);
        try
        {
            Inputs.WriteAtomically(output, s => LibxcSample.Write(s, options, progress, interrupted.Token), interrupted);
        }
        catch (OperationCanceledException)
        {
            progress.Done();
            Console.Error.WriteLine(interrupted.Farewell);
            return interrupted.ExitCode;
        }
        catch (FgInvalidModelException e)
        {
            progress.Done();
            Console.Error.WriteLine("xenstream: internal error: " + e.Message);
            return Program.Usage;
        }
        progress.Done();
        return Program.Ok;
    }

    /// <summary>Refuses an image larger than the free space where it would be written.</summary>
    private static void CheckSpace(string output, long size)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        if (!Directory.Exists(dir)) throw new UsageException(output + ": no such directory: " + dir);
        long free;
        try { free = new DriveInfo(dir).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return; } // cannot tell: let the write say
        if (size > free)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"{output}: the image needs {size} octets ({size >> 20} MiB) and {dir} has {free} ({free >> 20} MiB) free"));
    }
}
