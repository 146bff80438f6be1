using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FormatGen.Xen;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// xenstream convert-legacy as scripts call it: Xen's converter's flags,
/// pipes and file descriptors, the output only when the conversion succeeded,
/// the input untouched, and verify/dump pointing at the command to run.
/// </summary>
public sealed class ConvertLegacyCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("formatgen-convert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Dll => Xenstream.Dll;

    private string File_(string name, byte[] data)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllBytes(p, data);
        return p;
    }

    /// <summary>Runs a shell command line in the test's directory, with "xenstream" standing for the real binary.</summary>
    private (int Exit, string Out, string Err) Sh(string command) => Xenstream.Sh(_dir, command);

    private static byte[] Hash(string path) => SHA256.HashData(File.ReadAllBytes(path));

    private static LegacyDomain Hvm => LegacyConverterTests.VectorCases().First(c => c.Name == "hvm-w64").Domain;
    private static LegacyDomain XlHvm => LegacyConverterTests.VectorCases().First(c => c.Name == "xl-hvm-w64-libxl").Domain;

    [Fact]
    public void Xens_converter_flags_give_the_library_conversion_and_a_stream_verify_accepts()
    {
        var input = File_("in.img", LegacyImage.Render(XlHvm, 32));
        var before = Hash(input);
        var (exit, stdout, stderr) = Sh("xenstream convert-legacy -i in.img -o out.img -w 32 -g hvm -f libxl -x");
        Assert.True(exit == 0, stderr);
        Assert.Equal("", stdout + stderr);
        Assert.Equal(LegacyConverterTests.Convert(File.ReadAllBytes(input), LegacyConverterTests.Opts(LegacyOutputFormat.Libxl)), File.ReadAllBytes(Path.Combine(_dir, "out.img")));
        Assert.Equal(before, Hash(input));
        (exit, stdout, _) = Sh("xenstream verify out.img");
        Assert.Equal(0, exit);
        // The test images' vCPU state is filler, not the hypervisor's layout: a warning each, never an error.
        Assert.Matches(@"(?m)^VALID: .*0 error\(s\)", stdout);
    }

    [Fact]
    public void Pipes_and_file_descriptors_carry_the_same_stream_and_the_summary_goes_where_the_stream_does_not()
    {
        File_("in.img", LegacyImage.Render(Hvm, 64));
        var expected = LegacyConverterTests.Convert(File.ReadAllBytes(Path.Combine(_dir, "in.img")));
        var (exit, stdout, stderr) = Sh("cat in.img | xenstream convert-legacy - - -v | cat > piped.img");
        Assert.Equal(0, exit);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_dir, "piped.img")));
        Assert.Equal("", stdout);
        Assert.Contains("Legacy image: HVM guest, 64-bit toolstack", stderr);
        Assert.Contains("Wrote a libxc stream of " + expected.Length + " octets", stderr);

        (exit, stdout, stderr) = Sh("xenstream convert-legacy -i 3 -o 4 -v 3<in.img 4>fd.img");
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_dir, "fd.img")));
        Assert.Contains("Legacy image: HVM guest", stdout);

        (exit, _, stderr) = Sh("xenstream convert-legacy in.img file.img");
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_dir, "file.img")));
    }

    [Fact]
    public void A_bad_image_is_one_error_with_its_offset_and_leaves_no_output()
    {
        var image = LegacyImage.Render(Hvm with { Batches = new[] { new LegacyBatch(new uint[] { 1, 2, 1 }) } }, 64);
        var input = File_("bad.img", image);
        var before = Hash(input);
        var (exit, stdout, stderr) = Sh("xenstream convert-legacy bad.img out.img");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        Assert.Contains("legacy-duplicate-pfn", stderr);
        var expected = Assert.Throws<FormatGen.Runtime.FgException>(() => LegacyConverterTests.Convert(image));
        Assert.Contains(expected.Format(), stderr);
        Assert.Contains("out.img was not written", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(new[] { "bad.img" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(before, Hash(input));

        // Truncated: the same, the output never appears.
        var good = LegacyImage.Render(Hvm, 64);
        File_("cut.img", good.AsSpan(0, good.Length / 2).ToArray());
        (exit, _, stderr) = Sh("xenstream convert-legacy cut.img out.img");
        Assert.Equal(1, exit);
        Assert.Contains("truncated", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "out.img")));
    }

    [Theory]
    [InlineData("in.img out.img -g pv", 1, "-g pv contradicts the image")]
    [InlineData("in.img out.img -w 32", 1, "-w 32 contradicts the image")]
    [InlineData("in.img out.img -x", 1, "no xl header")]
    [InlineData("in.img in.img", 2, "is the input")]
    [InlineData("in.img", 2, "no output")]
    [InlineData("-i in.img -o out.img other.img", 2, "give the input once")]
    [InlineData("v2.img out.img", 1, "not a legacy image")]
    public void Forced_flags_the_image_contradicts_and_misuse_are_refused(string args, int code, string message)
    {
        File_("in.img", LegacyImage.Render(Hvm, 64));
        File_("v2.img", Streams.Sample(GuestKind.Pv, 3));
        var before = Hash(Path.Combine(_dir, "in.img"));
        var (exit, stdout, stderr) = Sh("xenstream convert-legacy " + args);
        Assert.Equal(code, exit);
        Assert.Contains(message, stderr);
        Assert.Equal("", stdout);
        Assert.Equal(new[] { "in.img", "v2.img" }, Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
        Assert.Equal(before, Hash(Path.Combine(_dir, "in.img")));
    }

    [Theory]
    [InlineData("verify", false)]
    [InlineData("dump", false)]
    [InlineData("verify", true)]
    public void Verify_and_dump_of_a_legacy_image_print_the_command_that_converts_it(string command, bool xl)
    {
        var d = xl ? XlHvm : LegacyConverterTests.VectorCases().First(c => c.Name == "pv64-w32").Domain;
        File_("old image.img", LegacyImage.Render(d, 32));
        var (exit, _, stderr) = Sh("xenstream " + command + " 'old image.img'");
        Assert.Equal(2, exit);
        Assert.Contains(xl ? "an xl save file holding a legacy (pre-v2) libxc image" : "a legacy (pre-v2) libxc image", stderr);
        var line = Regex.Match(stderr, @"^\s+(xenstream convert-legacy .*)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.Equal(xl ? "xenstream convert-legacy 'old image.img' 'old image.img.v3' -w 32 -g hvm -x -f libxl"
                        : "xenstream convert-legacy 'old image.img' 'old image.img.v3' -w 32 -g pv", line);
        // The line runs as printed, and what it writes verifies.
        (exit, _, stderr) = Sh(line);
        Assert.True(exit == 0, stderr);
        (exit, var stdout, _) = Sh("xenstream verify 'old image.img.v3'");
        Assert.Equal(0, exit);
        // The test images' vCPU state is filler, not the hypervisor's layout: a warning each, never an error.
        Assert.Matches(@"(?m)^VALID: .*0 error\(s\)", stdout);
    }

    [Fact]
    public void Libxls_own_command_line_converts_from_descriptors()
    {
        // What libxl_convert_callout.c runs (with "--guest", short for --guest-type).
        File_("in.img", LegacyImage.Render(Hvm, 64));
        var (exit, _, stderr) = Sh("xenstream convert-legacy --in 3 --out 4 --width 64 --guest hvm --format libxl 3<in.img 4>out.img");
        Assert.True(exit == 0, stderr);
        Assert.Equal(LegacyConverterTests.Convert(File.ReadAllBytes(Path.Combine(_dir, "in.img")), LegacyConverterTests.Opts(LegacyOutputFormat.Libxl)),
            File.ReadAllBytes(Path.Combine(_dir, "out.img")));
    }

    [Fact]
    public void Outputs_that_are_no_regular_file_are_written_as_they_are()
    {
        File_("in.img", LegacyImage.Render(Hvm, 64));
        var expected = LegacyConverterTests.Convert(File.ReadAllBytes(Path.Combine(_dir, "in.img")));
        // A symbolic link: the file it names is replaced, the link stays.
        File.CreateSymbolicLink(Path.Combine(_dir, "link.img"), Path.Combine(_dir, "target.img"));
        var (exit, _, stderr) = Sh("xenstream convert-legacy in.img link.img");
        Assert.True(exit == 0, stderr);
        Assert.NotNull(new FileInfo(Path.Combine(_dir, "link.img")).LinkTarget);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_dir, "target.img")));
        // A device and a FIFO are written to, never replaced by a file.
        (exit, _, stderr) = Sh("xenstream convert-legacy in.img /dev/null && test -c /dev/null");
        Assert.True(exit == 0, stderr);
        (exit, var stdout, stderr) = Sh("mkfifo fifo && { cat fifo | wc -c & } && xenstream convert-legacy in.img fifo && wait && test -p fifo");
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), stdout.Trim());
        // Standard output shared with the shell: what the shell writes next goes after the stream.
        (exit, _, stderr) = Sh("(printf HEAD; xenstream convert-legacy in.img -; printf TAIL) > shared.img");
        Assert.True(exit == 0, stderr);
        Assert.Equal("HEAD"u8.ToArray().Concat(expected).Concat("TAIL"u8.ToArray()), File.ReadAllBytes(Path.Combine(_dir, "shared.img")));
    }

    [Fact]
    public void The_conversion_ends_when_the_image_does_without_waiting_for_the_end_of_the_input()
    {
        // A migration: the sender waits for the receiver once it has sent the image, so the input does not end.
        var image = LegacyImage.Render(XlHvm, 64);
        var target = Path.Combine(_dir, "out.img");
        var psi = new ProcessStartInfo("dotnet", new[] { Dll, "convert-legacy", "-", target, "-f", "libxl" })
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        p.StandardInput.BaseStream.Write(image);
        p.StandardInput.BaseStream.Flush();
        bool ended = p.WaitForExit(60_000);
        p.StandardInput.Close();
        if (!ended) p.Kill();
        Assert.True(ended, "the converter waited for the end of the input");
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        Assert.Equal(LegacyConverterTests.Convert(image, LegacyConverterTests.Opts(LegacyOutputFormat.Libxl)), File.ReadAllBytes(target));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public void A_signal_while_the_input_stalls_leaves_no_output(string signal, int code)
    {
        var image = LegacyImage.Render(Hvm, 64);
        var target = Path.Combine(_dir, "out.img");
        var psi = new ProcessStartInfo("dotnet", new[] { Dll, "convert-legacy", "-", target })
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        // Half the image, then nothing: the converter waits in a read.
        p.StandardInput.BaseStream.Write(image, 0, image.Length / 2);
        p.StandardInput.BaseStream.Flush();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Directory.GetFiles(_dir).Length == 0 && !p.HasExited && DateTime.UtcNow < deadline) System.Threading.Thread.Sleep(20);
        Assert.False(p.HasExited, "the converter stopped before the input ended");
        Process.Start("kill", new[] { "-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!.WaitForExit();
        Assert.True(p.WaitForExit(10_000), "the converter did not stop on the signal");
        var err = p.StandardError.ReadToEnd();
        Assert.Equal(code, p.ExitCode);
        Assert.Contains("interrupted", err);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
