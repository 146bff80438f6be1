using System;
using System.CommandLine;
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
        var memory = new Option<string>("--memory") { Description = "Guest memory, e.g. 256M or 1G.", Required = true };
        var version = new Option<int>("--version") { Description = "Stream version: 2 or 3.", DefaultValueFactory = _ => 3 };
        version.AcceptOnlyFromAmong("2", "3");
        var big = new Option<bool>("--big-endian") { Description = "Write a big-endian stream (Xen itself only writes little-endian)." };
        var output = new Option<string>("--output", "-o") { Description = "Output file, or - for standard output.", Required = true };
        var cmd = new Command("sample", "Write a realistic libxc image of a PV or HVM guest with the library's writer.") { guest, memory, version, big, output };
        cmd.SetAction(p => Run(p.GetValue(guest)!, p.GetValue(memory)!, p.GetValue(version), p.GetValue(big), p.GetValue(output)!));
        return cmd;
    }

    public static int Run(string guest, string memory, int version, bool bigEndian, string output)
    {
        SampleOptions options;
        try
        {
            options = new SampleOptions
            {
                Guest = guest == "hvm" ? GuestKind.Hvm : GuestKind.Pv,
                MemoryBytes = LibxcSample.ParseSize(memory),
                Version = (uint)version,
                BigEndian = bigEndian,
            };
            if (options.MemoryBytes % 4096 != 0) throw new FormatException("--memory must be a multiple of 4096 octets");
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            Console.Error.WriteLine("xenstream: " + e.Message);
            return Program.Usage;
        }
        try
        {
            Inputs.WriteAtomically(output, s => LibxcSample.Write(s, options));
        }
        catch (FgInvalidModelException e)
        {
            Console.Error.WriteLine("xenstream: internal error: " + e.Message);
            return Program.Usage;
        }
        return Program.Ok;
    }
}
