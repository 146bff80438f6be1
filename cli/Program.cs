using System;
using System.CommandLine;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;

namespace FormatGen.Cli;

/// <summary>xenstream: verify, dump and write Xen domain images. Exit codes: 0 ok, 1 bad stream, 2 usage or internal error.</summary>
public static class Program
{
    public const int Ok = 0, Invalid = 1, Usage = 2;

    public static int Main(string[] args)
    {
        var root = new RootCommand("Verify, dump and write Xen domain images (libxc migration streams v2 and v3).");
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine("xenstream: " + e.Message);
            Console.Error.WriteLine("Try 'xenstream --help'.");
            return Usage;
        }
        if (parsed.GetValue<string?>("input") is { Length: > 1 } arg && arg[0] == '-')
        {
            Console.Error.WriteLine("xenstream: unknown option '" + arg + "'. Try 'xenstream --help'.");
            return Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("xenstream: " + e.Message);
            return Usage;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("xenstream: internal error: " + e);
            return Usage;
        }
    }

    /// <summary>The option every reading command shares.</summary>
    internal static Option<string> MaxRecordOption() => new("--max-record")
    {
        Description = "Largest record accepted (default 128M, Xen's REC_LENGTH_MAX).",
        DefaultValueFactory = _ => "128M",
    };

    internal static Argument<string?> InputArgument() => new("input")
    {
        Description = "Image file, or - for standard input. Without it, a built-in sample is used.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Opens the input and checks it is a libxc stream; returns null with an exit code when not.</summary>
    internal static Stream? OpenLibxc(string? path, string verb, out string name, out int exit)
    {
        exit = Ok;
        var input = Inputs.Open(path, out name);
        if (path is null) Console.Error.WriteLine($"xenstream: no input given: {verb} {Inputs.SampleDescription}");
        var stream = PeekStream.Peek(input, ImageDetector.PeekLength, out var head);
        var kind = ImageDetector.Detect(head);
        if (kind is ImageKind.Libxl or ImageKind.XlSaveFile)
        {
            Console.Error.WriteLine($"xenstream: {name}: {ImageDetector.Describe(kind)}: only bare libxc streams are supported by this version");
            stream.Dispose();
            exit = Usage;
            return null;
        }
        if (kind == ImageKind.Legacy)
            Console.Error.WriteLine($"xenstream: {name}: looks like a {ImageDetector.Describe(kind)}, not a version 2/3 stream");
        return stream;
    }

    /// <summary>The common start of verify and dump: the options, then the input as a libxc stream (null with an exit code when not).</summary>
    internal static Stream? OpenForReading(string? path, string verb, string maxRecord, out FgStreamOptions options, out string name, out int exit)
    {
        options = new FgStreamOptions();
        name = path ?? "";
        try
        {
            long max = LibxcSample.ParseSize(maxRecord);
            if (max > int.MaxValue) throw new FormatException("--max-record must be below 2 GiB");
            options = new FgStreamOptions { MaxElementLength = (int)max };
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("xenstream: " + e.Message);
            exit = Usage;
            return null;
        }
        return OpenLibxc(path, verb, out name, out exit);
    }
}
