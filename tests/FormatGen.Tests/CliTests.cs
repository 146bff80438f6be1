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
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "xenstream.dll");
        var command = pipe
            ? $"cat \"{stdinFile}\" | dotnet \"{dll}\" {args}"
            : $"exec dotnet \"{dll}\" {args}" + (stdinFile is null ? " </dev/null" : $" < \"{stdinFile}\"");
        var psi = new ProcessStartInfo("bash", new[] { "-c", command })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, err);
    }

    [Fact]
    public void Verify_without_input_checks_the_built_in_sample_and_says_so()
    {
        var (exit, stdout, stderr) = Run("verify");
        Assert.Equal(0, exit);
        Assert.Contains("built-in sample", stderr);
        Assert.StartsWith("VALID:", stdout);
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
        Assert.Equal(1, VerifyCommand.Run(File_("tsc.img", image), false, "128M", sw));
        Assert.Contains($"error: tsc-info-reserved: record 6 (TSC_INFO), field body.reserved, offset {offsets[6] + 28}", sw.ToString());
        Assert.Contains("INVALID", sw.ToString());
    }

    [Fact]
    public void Verbose_verify_squashes_runs_of_page_data()
    {
        var sw = new StringWriter();
        Assert.Equal(0, VerifyCommand.Run(File_("pv.img", Streams.Sample(GuestKind.Pv, 3, false, 16 << 20)), true, "128M", sw));
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
        Assert.Equal(0, DumpCommand.Run(File_("hvm.img", Streams.Sample(GuestKind.Hvm, 2, true)), true, "128M", ms));
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
        Assert.Equal(0, SampleCommand.Run("hvm", "1M", 2, false, target));
        var (violations, error, records) = Streams.Verify(File.ReadAllBytes(target));
        Assert.Null(error);
        Assert.True(records > 3);
        Assert.Equal(2, SampleCommand.Run("hvm", "1000", 3, false, Path.Combine(_dir, "odd.img")));
        Assert.Equal(new[] { "out.img" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Containers_this_version_does_not_read_are_refused_with_a_message()
    {
        var xl = new byte[64];
        "Xen saved domain, xl format\n \0 \r"u8.CopyTo(xl);
        var (exit, _, err) = Run("verify \"" + File_("x.sav", xl) + "\"");
        Assert.Equal(2, exit);
        Assert.Contains("xl save file", err);
    }
}
