using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using FormatGen.Cli;
using FormatGen.Xen;
using Xunit;

namespace FormatGen.Tests;

public class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenstream-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File_(string name, byte[] data)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, data);
        return p;
    }

    /// <summary>Runs the real xenstream binary, as an operator would.</summary>
    private static (int Exit, string Out, string Err) Run(string args, string? stdinFile = null, bool pipe = false)
        => Xenstream.Sh(Environment.CurrentDirectory, pipe
            ? $"cat \"{stdinFile}\" | xenstream {args}"
            : $"xenstream {args}" + (stdinFile is null ? " </dev/null" : $" < \"{stdinFile}\""));

    [Fact]
    public void The_built_in_sample_is_read_only_when_asked_for()
    {
        var (exit, stdout, _) = Run("verify --sample");
        Assert.Equal(0, exit);
        Assert.StartsWith("VALID: (built-in sample)", stdout);
        // No FILE and standard input not a terminal: standard input is read (here: empty), never the sample.
        (exit, stdout, _) = Run("verify");
        Assert.Equal(1, exit);
        Assert.Contains("not-a-xen-image", stdout);
        Assert.Contains("the input is empty", stdout);
        Assert.DoesNotContain("VALID", stdout.Replace("INVALID", ""));
        var good = File_("good.img", Streams.Sample(GuestKind.Hvm, 3));
        Assert.Equal(0, Run("verify", good).Exit);
        Assert.Equal(2, Run("verify --sample \"" + good + "\"").Exit);
    }

    [Fact]
    public void Without_input_on_a_terminal_verify_is_a_usage_error()
    {
        // script(1) gives the command a terminal for its standard input.
        var dll = Xenstream.Dll;
        var psi = new ProcessStartInfo("script", new[] { "-qec", $"dotnet \"{dll}\" verify", "/dev/null" }) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("no input: give a FILE, - for standard input, or --sample", output);
    }

    [Theory]
    [InlineData("verify \"\"", "'' is not a file name")]
    [InlineData("dump \"\"", "'' is not a file name")]
    [InlineData("verify /tmp", "/tmp: is a directory")]
    [InlineData("verify /nonexistent/x.img", "no such file")]
    [InlineData("verify --bogus /tmp/x.img", "unknown option '--bogus'")]
    [InlineData("dump --json --bogus=1 /tmp/x.img", "unknown option '--bogus'")]
    [InlineData("sample --guest pv --memory 0 -o -", "--memory must be at least one page")]
    [InlineData("sample --guest pv --memory 4K -o -", "a PV guest needs at least 2 pages")]
    [InlineData("sample --guest hvm --memory lots -o -", "'lots' is not a size")]
    public void Unusable_arguments_are_one_line_usage_errors(string args, string message)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr);
        Assert.Equal("", stdout);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        if (args.Contains("--bogus")) Assert.DoesNotContain("x.img", stderr);
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("random")]
    [InlineData("text")]
    [InlineData("short")]
    public void Input_that_is_no_Xen_image_is_said_to_be_none_not_legacy(string what)
    {
        byte[] data = what switch
        {
            "zeros" => new byte[100000],
            "random" => RandomBytes(100000),
            "text" => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("name = \"guest\"\nmemory = 1024\n", 100))),
            _ => new byte[] { 1, 2, 3 },
        };
        var file = File_(what, data);
        foreach (var cmd in new[] { "verify", "dump" })
        {
            var (exit, stdout, stderr) = Run(cmd + " \"" + file + "\"");
            Assert.Equal(1, exit);
            Assert.Contains("not-a-xen-image", stdout);
            Assert.Contains(what == "short" ? "too short for any Xen image" : "not a Xen image: it starts with", stdout);
            Assert.DoesNotContain("legacy", stdout + stderr);
            // One mistake: one error line.
            Assert.Single(stdout.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        }
    }

    private static byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        new Random(7).NextBytes(b);
        b[4] = 0x55; // never a plausible legacy start by accident
        return b;
    }

    [Theory]
    [InlineData(64, true, "PV guest, 64-bit toolstack")]
    [InlineData(32, true, "PV guest, 32-bit toolstack")]
    [InlineData(64, false, "HVM guest, 64-bit toolstack")]
    [InlineData(32, false, "HVM guest, 32-bit toolstack")]
    public void A_plausible_legacy_image_is_named_with_its_guessed_kind(int bits, bool pv, string kind)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        void Word(ulong v) { if (bits == 64) w.Write(v); else w.Write((uint)v); }
        Word(0x40000);                                   // p2m_size
        if (pv) { Word(ulong.MaxValue); w.Write(8u); w.Write("vcpu"u8.ToArray()); w.Write(0x1430u); }
        else w.Write(-3);                                // an HVM chunk: IDENT_PT
        w.Write(new byte[64]);
        var (exit, _, stderr) = Run("verify \"" + File_("legacy.img", ms.ToArray()) + "\"");
        Assert.Equal(2, exit);
        Assert.Contains("legacy (pre-v2) libxc image", stderr);
        Assert.Contains(kind, stderr);
        Assert.Contains("convert-legacy", stderr);
    }

    [Fact]
    public void Sample_refuses_an_image_larger_than_the_free_space()
    {
        var (exit, _, stderr) = Run("sample --guest hvm --memory 1000T -o \"" + Path.Combine(_dir, "huge.img") + "\"");
        Assert.Equal(2, exit);
        Assert.Contains("free", stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public void An_interrupted_sample_leaves_no_file(string signal, int code)
    {
        var target = Path.Combine(_dir, "big.img");
        var dll = Xenstream.Dll;
        // Big enough to take a while to write, small enough for the disk at hand.
        long free = new DriveInfo(_dir).AvailableFreeSpace;
        long mib = Math.Clamp(free / 2 >> 20, 256, 8192);
        using var p = Process.Start(new ProcessStartInfo("dotnet", new[] { dll, "sample", "--guest", "hvm", "--memory", mib + "M", "-o", target }) { RedirectStandardError = true })!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Directory.GetFiles(_dir).Length == 0 && !p.HasExited && DateTime.UtcNow < deadline) System.Threading.Thread.Sleep(20);
        Assert.False(p.HasExited, "the sample finished before it could be interrupted");
        Process.Start("kill", new[] { "-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!.WaitForExit();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(code, p.ExitCode);
        Assert.Contains("interrupted", err);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Sample_shows_progress_on_a_terminal_only()
    {
        var dll = Xenstream.Dll;
        // Standard error on a terminal (script(1)), the image itself to /dev/null.
        var psi = new ProcessStartInfo("script", new[] { "-qec", $"dotnet \"{dll}\" sample --guest hvm --memory 96G -o - >/dev/null", "/dev/null" }) { RedirectStandardOutput = true, RedirectStandardInput = true };
        using (var p = Process.Start(psi)!)
        {
            var terminal = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            Assert.Matches(@"sample: \d+ MiB of 98\d\d\d MiB \(\d+%\)", terminal);
        }
        var target = Path.Combine(_dir, "p.img");
        var (exit, stdout, stderr) = Run("sample --guest hvm --memory 64M -o \"" + target + "\"");
        Assert.Equal(0, exit);
        Assert.Equal("", stdout + stderr);
    }

    [Fact]
    public void Verify_reads_a_pipe_and_fails_a_truncated_one()
    {
        var image = Streams.Sample(GuestKind.Hvm, 3);
        var good = File_("good.img", image);
        var cut = File_("cut.img", image.AsSpan(0, image.Length - 100).ToArray());
        Assert.Equal(0, Run("verify -", good).Exit);
        Assert.Equal(0, Run("verify -", good, pipe: true).Exit);
        var (exit, stdout, _) = Run("verify -", cut, pipe: true);
        Assert.Equal(1, exit);
        Assert.Contains("truncated: record", stdout);
    }

    [Fact]
    public void Exit_codes_tell_bad_streams_from_bad_usage()
    {
        var bad = Streams.Sample();
        bad[13] = 9; // version
        Assert.Equal(1, Run("verify \"" + File_("bad.img", bad) + "\"").Exit);
        Assert.Equal(2, Run("verify \"" + Path.Combine(_dir, "missing.img") + "\"").Exit);
        Assert.Equal(2, Run("verify --no-such-option").Exit);
        Assert.Equal(2, Run("frobnicate").Exit);
        Assert.Equal(2, Run("sample --guest arm --memory 1M -o -").Exit);
    }

    [Fact]
    public void Verify_names_rule_record_and_offset()
    {
        var image = Streams.Sample(GuestKind.Pv, 3);
        var offsets = Streams.RecordOffsets(image);
        image[offsets[6] + 8 + 20] = 1; // TSC_INFO reserved
        var sw = new StringWriter();
        Assert.Equal(1, VerifyCommand.Run(File_("tsc.img", image), false, false, 128L << 20, sw));
        Assert.Contains($"error: tsc-info-reserved: record 6 (TSC_INFO), field body.reserved, offset {offsets[6] + 28}", sw.ToString());
        Assert.Contains("INVALID", sw.ToString());
    }

    [Fact]
    public void Verbose_verify_squashes_runs_of_page_data()
    {
        var sw = new StringWriter();
        Assert.Equal(0, VerifyCommand.Run(File_("pv.img", Streams.Sample(GuestKind.Pv, 3, false, 16 << 20)), false, true, 128L << 20, sw));
        var lines = sw.ToString().Split('\n');
        var page = Assert.Single(lines, l => l.Contains("PAGE_DATA"));
        Assert.Contains("5-8", page);
        Assert.Contains("PAGE_DATA x4", page);
        Assert.Contains("4096 pfns", page);
        Assert.Contains(lines, l => l.Contains("X86_PV_VCPU_MSRS"));
    }

    [Fact]
    public void Dump_json_is_one_document_with_every_record()
    {
        var ms = new MemoryStream();
        Assert.Equal(0, DumpCommand.Run(File_("hvm.img", Streams.Sample(GuestKind.Hvm, 2, true)), false, true, 128L << 20, ms));
        using var doc = JsonDocument.Parse(ms.ToArray());
        var records = doc.RootElement.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal("PAGE_DATA", records[0].GetProperty("type").GetString());
        Assert.Equal("END", records[^1].GetProperty("type").GetString());
        Assert.StartsWith("count=512, pages=512, pfns 0x0-0x1ff", records[0].GetProperty("summary").GetString());
        Assert.Contains("mode=0, khz=", records[1].GetProperty("summary").GetString());
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("image").GetProperty("bigEndian").GetBoolean());
    }

    [Fact]
    public void Sample_writes_atomically_and_leaves_nothing_on_failure()
    {
        var target = Path.Combine(_dir, "out.img");
        Assert.Equal(0, SampleCommand.Run("hvm", 1L << 20, 2, false, target));
        var (violations, error, records) = Streams.Verify(File.ReadAllBytes(target));
        Assert.Null(error);
        Assert.True(records > 3);
        Assert.Contains("multiple of the 4096-octet page", Assert.Throws<UsageException>(() => SampleCommand.Run("hvm", 5000, 3, false, Path.Combine(_dir, "odd.img"))).Message);
        Assert.Equal(new[] { "out.img" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Every_container_is_verified_and_dumped_with_its_layers_and_checkpoints()
    {
        var xl = Path.Combine(_dir, "cp.sav");
        Assert.Equal(0, SampleCommand.Run("hvm", 1L << 20, 3, false, xl, "xl", 2));
        var (exit, stdout, _) = Run("verify -v \"" + xl + "\"");
        Assert.Equal(0, exit);
        Assert.Contains("xl: save file, little-endian header, configuration of", stdout);
        Assert.Contains("  libxl: version 2, little-endian", stdout);
        Assert.Contains("    libxc: version 3", stdout);
        Assert.Contains("--- checkpoint 2 complete", stdout);
        Assert.Contains("VALID: " + xl + ": xl save file,", stdout);
        Assert.Contains("checkpointed, 2 checkpoint(s) complete", stdout);

        // verify-stream-v2's flags: -i FILE or FD, -f, -q.
        Assert.Equal(0, Run("verify -i \"" + xl + "\" -f xl").Exit);
        Assert.Equal(0, Run("verify -i 0 -f xl -q", xl).Exit);
        (exit, stdout, var stderr) = Run("verify -q -f libxc \"" + xl + "\"");
        Assert.Equal((1, "", ""), (exit, stdout, stderr));

        // dump: the configuration alone, and JSON with every layer in wire order.
        (exit, stdout, _) = Run("dump --config \"" + xl + "\"");
        Assert.Equal(0, exit);
        Assert.Contains("\"name\": \"sample-hvm\"", stdout);
        Assert.StartsWith("{", stdout);
        (exit, stdout, _) = Run("dump --json \"" + xl + "\"");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("xl", root.GetProperty("format").GetString());
        Assert.Equal(2, root.GetProperty("checkpoints").GetProperty("complete").GetInt32());
        var layers = root.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("layer").GetString() + r.GetProperty("depth").GetInt32()).Distinct().ToList();
        Assert.Equal(new[] { "libxl1", "libxc2" }, layers);
        Assert.Equal(0, root.GetProperty("xl").GetProperty("offset").GetInt64());
        Assert.Equal(2, root.GetProperty("image").GetProperty("depth").GetInt32());
        Assert.Contains("sample-hvm", root.GetProperty("xl").GetProperty("config").GetString());

        // A libxc stream carries no configuration.
        var bare = File_("bare.img", Streams.Sample());
        (exit, _, stderr) = Run("dump --config \"" + bare + "\"");
        Assert.Equal(2, exit);
        Assert.Contains("carries no domain configuration", stderr);
    }

    [Fact]
    public void Extract_writes_its_output_whole_or_not_at_all()
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Hvm, MemoryBytes = 2 << 20, PagesPerRecord = 32, Wrap = SampleWrap.Libxl, Checkpoints = 2 });
        var image = File_("hvm.img", ms.ToArray());
        var elf = Path.Combine(_dir, "hvm.elf");
        File.WriteAllText(elf, "old");
        var (exit, stdout, err) = Run($"extract \"{image}\" -o \"{elf}\" --format elf --checkpoint 1");
        Assert.True(exit == 0, err);
        Assert.Contains("ELF core file of 512 page(s)", stdout);
        Assert.Contains("as of checkpoint 1", stdout);
        Assert.NotNull(ExtractTests.ElfFile.Read(elf));
        ExtractTests.Readelf(elf);

        // From a pipe, to a raw image.
        var raw = Path.Combine(_dir, "hvm.raw");
        (exit, stdout, err) = Run($"extract - -o \"{raw}\"", image, pipe: true);
        Assert.True(exit == 0, err);
        Assert.Equal(512L * 4096, new FileInfo(raw).Length);

        // A cut input: an error naming where, exit 1, and the old output left as it was, no temporary file.
        var cut = File_("cut.img", ms.ToArray().AsSpan(0, (int)ms.Length - 9000).ToArray());
        (exit, _, err) = Run($"extract \"{cut}\" -o \"{raw}\"");
        Assert.Equal(1, exit);
        Assert.Contains("truncated", err);
        Assert.Contains("was not written", err);
        Assert.DoesNotContain("   at ", err);
        Assert.Equal(512L * 4096, new FileInfo(raw).Length);
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));

        // Asking for what cannot be.
        Assert.Equal(2, Run($"extract \"{image}\" -o -").Exit);
        Assert.Equal(2, Run($"extract \"{image}\"").Exit);
        Assert.Equal(2, Run($"extract \"{image}\" -o \"{image}\"").Exit);
        (exit, _, err) = Run($"extract \"{image}\" -o \"{raw}\" --checkpoint 3");
        Assert.Equal(1, exit);
        Assert.Contains("holds 2 complete checkpoint(s)", err);
        var plain = File_("plain.img", Streams.Sample(GuestKind.Pv, 3));
        (exit, _, err) = Run($"extract \"{plain}\" -o \"{raw}\" --checkpoint 1");
        Assert.Equal(1, exit);
        Assert.Contains("not checkpointed", err);
    }
}
