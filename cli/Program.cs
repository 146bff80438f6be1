using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;

namespace FormatGen.Cli;

/// <summary>
/// xenstream: verify, dump and write Xen domain images. Exit codes: 0 ok, 1 bad
/// stream, 2 usage, I/O or internal error, 130 and 143 on SIGINT and SIGTERM,
/// 141 when standard output's reader closed the pipe.
/// </summary>
public static class Program
{
    public const int Ok = 0, Invalid = 1, Usage = 2;

    public static int Main(string[] args)
    {
        // Standard output fails loudly (a closed pipe, a full disk); a failing standard error is dropped.
        Console.SetOut(new StreamWriter(Outputs.StandardOutput(), new System.Text.UTF8Encoding(false), 1 << 12) { AutoFlush = true });
        Console.SetError(new StreamWriter(Outputs.StandardError(), new System.Text.UTF8Encoding(false), 1 << 12) { AutoFlush = true });
        // Installed (linked) as convert-legacy-stream, it is Xen's converter: libxl runs it so on a legacy
        // restore (LIBXL_CONVERT_HELPER), with convert-legacy-stream's flags and no subcommand.
        var invoked = Path.GetFileNameWithoutExtension(Environment.GetCommandLineArgs()[0]);
        if (invoked == "convert-legacy-stream" && (args.Length == 0 || args[0] != "convert-legacy")) args = args.Prepend("convert-legacy").ToArray();
        var root = new RootCommand("Verify, dump and write Xen domain images (libxc migration streams v2 and v3).");
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        root.Subcommands.Add(ConvertLegacyCommand.Create());
        root.Subcommands.Add(ExtractCommand.Create());
        var parsed = root.Parse(args);
        // An option the command does not have is named as such, whatever the parser made of it.
        if (UnknownOption(args, parsed) is { } unknown)
        {
            Console.Error.WriteLine("xenstream: unknown option '" + unknown + "'. Try 'xenstream " + (parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ") + "--help'.");
            return Usage;
        }
        if (parsed.Errors.Count > 0)
        {
            // One line, as every usage error: what is wrong, and where to look.
            var command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
            Console.Error.WriteLine("xenstream: " + string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.'))) + ". Try 'xenstream " + command + "--help'.");
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
        catch (OutputException e)
        {
            Console.Error.WriteLine("xenstream: " + e.Message);
            return e.BrokenPipe ? Outputs.BrokenPipeExit : Usage;
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
    internal static Option<long> MaxRecordOption()
        => Sizes.Option("--max-record", "Largest record body accepted (default 128M, Xen's REC_LENGTH_MAX).", 128L << 20);

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
    internal static FgStreamOptions StreamOptions(long maxRecord)
    {
        if (maxRecord is < 1 or > int.MaxValue) throw new UsageException("--max-record must be from 1 octet to below 2 GiB");
        return new FgStreamOptions { MaxElementLength = (int)maxRecord };
    }

    /// <summary>-f: the format to read the input as (verify-stream-v2's flag), instead of detecting it.</summary>
    internal static Option<string?> FormatOption()
    {
        var o = new Option<string?>("--format", "-f") { Description = "Read the input as libxc, libxl or xl instead of detecting its format (verify-stream-v2's -f)." };
        o.AcceptOnlyFromAmong("libxc", "libxl", "xl");
        return o;
    }

    internal static ImageKind? ParseFormat(string? format) => format switch
    {
        "libxc" => ImageKind.Libxc,
        "libxl" => ImageKind.Libxl,
        "xl" => ImageKind.XlSaveFile,
        _ => null,
    };

    /// <summary>The input named by the FILE argument or by -i (verify-stream-v2's), not both.</summary>
    internal static string? OneInput(string? argument, string? inOption)
    {
        if (argument is not null && inOption is not null && argument != inOption)
            throw new UsageException("give the input once: as FILE or with -i, not both");
        return argument ?? inOption;
    }

    /// <summary>
    /// A legacy image (bare, or inside an xl save file) is a usage error
    /// (exit 2) that points at convert-legacy; any other error is the input's.
    /// </summary>
    internal static void RefuseLegacy(FgException e, string name, string? path, XenReader reader)
    {
        if (e.Rule != "legacy-image") return;
        var what = reader.XlHeader is not null
            ? string.Create(CultureInfo.InvariantCulture, $"an xl save file holding a legacy (pre-v2) libxc image from octet {reader.LegacyOffset}")
            : "a legacy (pre-v2) libxc image";
        if (reader.Legacy is { } g) what += " (by its first octets: " + g + ")";
        throw new UsageException(name + ": " + what + ", which " + (reader.XlHeader is not null ? "xenstream reads once converted to a libxl stream" : "xenstream reads once converted to a version 3 stream")
            + ". Convert it with:\n  " + ConvertLegacyLine(path, reader));
    }

    /// <summary>
    /// The convert-legacy command line for the legacy image a reader met: its
    /// width and guest type as detected, an xl save file to a libxl stream
    /// (what xl restores), a bare image to a libxc stream.
    /// </summary>
    internal static string ConvertLegacyLine(string? path, XenReader reader)
    {
        bool xl = reader.XlHeader is not null;
        bool stdin = path is null or "-";
        string input = stdin ? "-" : Quote(path!);
        string output = stdin ? "converted.img" : Quote(path + ".v3");
        var g = reader.Legacy;
        return "xenstream convert-legacy " + input + " " + output
            + (g is { } guess ? string.Create(CultureInfo.InvariantCulture, $" -w {guess.ToolstackBits} -g {(guess.Pv ? "pv" : "hvm")}") : "")
            + (xl ? " -x -f libxl" : "");
    }

    /// <summary>A word as a POSIX shell reads it back.</summary>
    internal static string Quote(string s)
        => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '@' or '%' or ',' or '=')
            ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    internal static string DescribeXl(FormatGen.Xen.Xl.Xl xl)
    {
        var h = xl.Header;
        var config = h.OptionalData.Config;
        return "xl: save file, " + (xl.ByteOrder.Span[0] == 4 ? "little" : "big") + "-endian header, "
            + (config is null ? "no configuration" : string.Create(CultureInfo.InvariantCulture, $"configuration of {System.Text.Encoding.UTF8.GetByteCount(config)} octets ({(h.ConfigIsJson ? "JSON" : "xl syntax")})"))
            + ", " + (h.StreamV2 ? "a libxl stream follows" : "a legacy libxc image follows");
    }

    internal static string DescribeLibxl(FormatGen.Xen.Libxl.Header h)
        => "libxl: version 2, " + (h.BigEndian ? "big" : "little") + "-endian" + (h.Legacy ? ", converted from a legacy image" : "");

    internal static string DescribeLibxc(LibxcReader r)
    {
        var ih = r.ImageHeader;
        var dh = r.DomainHeader;
        return string.Create(CultureInfo.InvariantCulture,
            $"libxc: version {ih.Version}, {(r.LittleEndian ? "little" : "big")}-endian; domain {RecordNames.Upper(FormatGen.Xen.Libxc.DomainTypeNames.KsyName(dh.Type), (long)dh.Type)}, page size {1L << dh.PageShift}, Xen {dh.XenMajor}.{dh.XenMinor}");
    }
}

/// <summary>A mistake in how xenstream was called (exit code 2), said in one line.</summary>
internal sealed class UsageException(string message) : Exception(message);
