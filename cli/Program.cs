using System;
using System.CommandLine;
using System.IO;
using System.Linq;
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
        // An option the command does not have is named as such, whatever the parser made of it.
        if (UnknownOption(args, parsed) is { } unknown)
        {
            Console.Error.WriteLine("xenstream: unknown option '" + unknown + "'. Try 'xenstream " + (parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ") + "--help'.");
            return Usage;
        }
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine("xenstream: " + e.Message);
            Console.Error.WriteLine("Try 'xenstream --help'.");
            return Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine("xenstream: " + e.Message);
            return Usage;
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

    /// <summary>The first argument that looks like an option but is none of the command's (up to a "--").</summary>
    private static string? UnknownOption(string[] args, ParseResult parsed)
    {
        var known = parsed.CommandResult.Command.Options.Concat(parsed.RootCommandResult.Command.Options)
            .SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var a in args)
        {
            if (a == "--") break;
            if (a.Length < 2 || a[0] != '-') continue;
            var name = a.Split('=', 2)[0];
            if (!known.Contains(name)) return name;
        }
        return null;
    }

    /// <summary>The option every reading command shares.</summary>
    internal static Option<string> MaxRecordOption() => new("--max-record")
    {
        Description = "Largest record body accepted (default 128M, Xen's REC_LENGTH_MAX).",
        DefaultValueFactory = _ => "128M",
    };

    internal static Argument<string?> InputArgument() => new("input")
    {
        Description = "Image file, or - for standard input (the default when it is not a terminal).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    internal static Option<bool> SampleOption() => new("--sample")
    {
        Description = "Read a built-in sample image instead (" + Inputs.SampleDescription + ").",
    };

    /// <summary>The limits of a reading command, from its options; throws <see cref="UsageException"/>.</summary>
    internal static FgStreamOptions StreamOptions(string maxRecord)
    {
        try
        {
            long max = LibxcSample.ParseSize(maxRecord);
            if (max > int.MaxValue) throw new FormatException("--max-record must be below 2 GiB");
            return new FgStreamOptions { MaxElementLength = (int)max };
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// Looks at the first octets of an input that should be a libxc stream and
    /// returns the stream to read it from. An input that is no Xen image at all
    /// is a bad stream (<see cref="FgException"/>); a Xen format this version
    /// does not read is a usage error (<see cref="UsageException"/>).
    /// </summary>
    internal static Stream ExpectLibxc(Stream input, string name)
    {
        var stream = PeekStream.Peek(input, ImageDetector.PeekLength, out var head);
        switch (ImageDetector.Detect(head))
        {
            case ImageKind.Libxc:
                return stream;
            case ImageKind.Unknown:
                throw FgException.Invalid("not-a-xen-image", "(input)", 0, head.Length == 0
                    ? "the input is empty"
                    : "the input ends after " + head.Length + " octet(s), too short for any Xen image: " + ImageDetector.Show(head));
            case ImageKind.NotXen:
                throw FgException.Invalid("not-a-xen-image", "(input)", 0,
                    "not a Xen image: it starts with " + ImageDetector.Show(head) + ", the start of no Xen format (libxc, libxl, xl, or a pre-v2 save)");
            case ImageKind.Legacy:
                ImageDetector.TryGuessLegacy(head, out var guess);
                throw new UsageException(name + ": a legacy (pre-v2) libxc image (by its first octets, a " + guess
                    + "); convert it to a version 3 stream with convert-legacy, which this version does not have yet");
            case var kind:
                throw new UsageException(name + ": " + ImageDetector.Describe(kind) + ": only bare libxc streams are read by this version");
        }
    }
}

/// <summary>A mistake in how xenstream was called (exit code 2), said in one line.</summary>
internal sealed class UsageException(string message) : Exception(message);
