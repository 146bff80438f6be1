using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using FormatGen.Xen;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// xenstream when its surroundings fail it: standard output closed, on a full
/// device or read by a reader that goes away or stops reading, a full disk
/// under an output file, an input that stalls, and SIGINT, SIGTERM and SIGPIPE
/// mid-run. Each is one line on standard error naming what happened, the exit
/// code README.md gives, no stack trace, no output file left behind and the
/// input as it was.
/// </summary>
public sealed class CliAbuseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("formatgen-abuse-").FullName;

    public CliAbuseTests()
    {
        // 4096 one-page records: dump writes about 400 KiB of text for it.
        using (var f = File.Create(Path.Combine(_dir, "big.img")))
            LibxcSample.Write(f, new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 16 << 20, PagesPerRecord = 1 });
        File.WriteAllBytes(Path.Combine(_dir, "legacy.img"), LegacyImage.Render(LegacyConverterTests.VectorCases().First(c => c.Name == "hvm-w64").Domain, 64));
    }

    public void Dispose()
    {
        var small = Path.Combine(_dir, "small");
        if (Directory.Exists(small)) Process.Start("umount", new[] { small })!.WaitForExit();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Dll => Xenstream.Dll;

    /// <summary>Runs a shell command line in the test's directory, with "xenstream" standing for the real binary.</summary>
    private (int Exit, string Out, string Err) Sh(string command) => Xenstream.Sh(_dir, command);

    /// <summary>big-legacy.img: a legacy image of a 4 MiB guest (bench/legacy-image.py), about 4 MiB converted.</summary>
    private void BigLegacy()
        => Assert.Equal(0, Sh("python3 \"" + Path.Combine(RepoPaths.Root, "bench", "legacy-image.py") + "\" 4M 1024 big-legacy.img").Exit);

    /// <summary>One line of standard error, from xenstream, with no trace of .NET in it.</summary>
    private static void OneClearLine(string err, string expected)
    {
        Assert.Equal(1, err.Count(c => c == '\n'));
        Assert.StartsWith("xenstream: ", err);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("Exception", err);
        Assert.DoesNotContain("   at ", err);
    }

    private string[] Files(string dir = "") => Directory.GetFiles(Path.Combine(_dir, dir)).Select(Path.GetFileName).Order().ToArray()!;

    private byte[] Hash(string name) => SHA256.HashData(File.ReadAllBytes(Path.Combine(_dir, name)));

    // Every command that writes to standard output.
    public static TheoryData<string> Writers => new()
    {
        "xenstream dump big.img",
        "xenstream dump --json big.img",
        "xenstream dump --pfn 3 big.img",
        "xenstream verify -v big.img",
        "xenstream sample --guest pv --memory 16M -o -",
        "xenstream convert-legacy legacy.img -",
    };

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_closed_standard_output_is_said_once_and_exits_2(string command)
    {
        var (exit, _, err) = Sh(command + " >&-");
        Assert.Equal(2, exit);
        OneClearLine(err, "cannot write standard output: it is not open");
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_full_device_as_standard_output_is_said_once_and_exits_2(string command)
    {
        var (exit, _, err) = Sh(command + " >/dev/full");
        Assert.Equal(2, exit);
        OneClearLine(err, "cannot write standard output: no space left on the device");
    }

    [Theory]
    [InlineData("xenstream dump big.img")]
    [InlineData("xenstream dump --json big.img")]
    [InlineData("xenstream sample --guest pv --memory 16M -o -")]
    [InlineData("xenstream convert-legacy big-legacy.img -")]
    public void A_reader_that_goes_away_ends_the_run_with_141_as_SIGPIPE_would(string command)
    {
        // Each writes far more than a pipe holds (1 MiB, as xenstream asks): the reader is gone before the end.
        if (command.Contains("big-legacy", StringComparison.Ordinal)) BigLegacy();
        var (exit, @out, err) = Sh(command + " | head -c 100 | wc -c; exit ${PIPESTATUS[0]}");
        Assert.Equal("100", @out.Trim());
        Assert.Equal(141, exit);
        OneClearLine(err, "cannot write standard output: its reader closed the pipe (broken pipe)");
    }

    [Fact]
    public void An_output_named_dev_stdout_is_the_pipe_it_names()
    {
        var (exit, _, err) = Sh("xenstream sample --guest pv --memory 1M -o /dev/stdout | cat > piped.img");
        Assert.True(exit == 0, err);
        Assert.Equal(0, Sh("xenstream verify piped.img").Exit);
        BigLegacy();
        (exit, _, err) = Sh("xenstream convert-legacy big-legacy.img /dev/stdout | head -c 10 >/dev/null; exit ${PIPESTATUS[0]}");
        Assert.Equal(141, exit);
        OneClearLine(err, "cannot write /dev/stdout: its reader closed the pipe (broken pipe)");
        Assert.Equal(new[] { "big-legacy.img", "big.img", "legacy.img", "piped.img" }, Files());
    }

    [Fact]
    public void A_full_disk_under_an_output_file_leaves_nothing_and_the_input_as_it_was()
    {
        var small = Directory.CreateDirectory(Path.Combine(_dir, "small")).FullName;
        var mount = Process.Start(new ProcessStartInfo("mount", new[] { "-t", "tmpfs", "-o", "size=1m", "tmpfs", small }) { RedirectStandardError = true })!;
        mount.WaitForExit();
        Assert.True(mount.ExitCode == 0, "a 1 MiB tmpfs could not be mounted (the test needs root): " + mount.StandardError.ReadToEnd());
        var big = Hash("big.img");
        var legacy = Hash("legacy.img");
        BigLegacy(); // its conversion does not fit
        var bigLegacy = Hash("big-legacy.img");

        foreach (var (command, file) in new[]
        {
            ("xenstream extract big.img -o small/memory.raw", "small/memory.raw"),
            ("xenstream extract big.img --format elf -o small/memory.elf", "small/memory.elf"),
            ("xenstream convert-legacy big-legacy.img small/out.img", "small/out.img"),
        })
        {
            var (exit, @out, err) = Sh(command);
            Assert.Equal(2, exit);
            Assert.Equal("", @out);
            OneClearLine(err, "cannot write " + file + ": no space left on the device; nothing was written (the partial output was removed)");
            Assert.Empty(Files("small"));
        }
        // The sample knows its size: it says so before writing anything.
        var (code, _, message) = Sh("xenstream sample --guest pv --memory 16M -o small/sample.img");
        Assert.Equal(2, code);
        OneClearLine(message, "small/sample.img: the image needs");
        Assert.Empty(Files("small"));
        Assert.Equal(big, Hash("big.img"));
        Assert.Equal(legacy, Hash("legacy.img"));
        Assert.Equal(bigLegacy, Hash("big-legacy.img"));
    }

    /// <summary>xenstream with its standard input and output as pipes the test holds.</summary>
    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", args.Prepend(Dll))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        return Process.Start(psi)!;
    }

    /// <summary>
    /// Waits until the process's main thread is blocked in read(2) of
    /// descriptor 0 or write(2) of descriptor 1 (x86-64 numbers; the kernel
    /// says so in /proc/PID/syscall): the signal then arrives mid-run, never
    /// before xenstream is set up.
    /// </summary>
    private static void WaitBlockedIn(Process p, string call)
    {
        var (number, fd) = call == "read" ? ("0", "0x0") : ("1", "0x1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !p.HasExited)
        {
            string[] words;
            try { words = File.ReadAllText("/proc/" + p.Id.ToString(CultureInfo.InvariantCulture) + "/syscall").Split(' '); }
            catch (IOException) { break; }
            if (words.Length > 1 && words[0] == number && words[1] == fd)
            {
                Thread.Sleep(100);
                return;
            }
            Thread.Sleep(20);
        }
        Assert.Fail("xenstream never waited in " + call + "(2)" + (p.HasExited ? ": it exited with " + p.ExitCode + ", " + p.StandardError.ReadToEnd() : ""));
    }

    private static void Kill(Process p, string signal)
        => Process.Start("kill", new[] { "-" + signal, p.Id.ToString(CultureInfo.InvariantCulture) })!.WaitForExit();

    /// <summary>Ends the run's pipes and returns its exit code and standard error.</summary>
    private static (int Exit, string Err) Finish(Process p)
    {
        var err = p.StandardError.ReadToEndAsync();
        bool ended = p.WaitForExit(10_000);
        if (!ended) p.Kill();
        Assert.True(ended, "xenstream did not stop on the signal");
        return (p.ExitCode, err.Result);
    }

    public static TheoryData<string, string, int> StalledInputs => new()
    {
        { "verify -", "INT", 130 }, { "verify -", "TERM", 143 },
        { "dump -", "INT", 130 }, { "dump --json -", "TERM", 143 },
        { "extract - -o memory.elf --format elf", "INT", 130 }, { "extract - -o memory.raw", "TERM", 143 },
        { "convert-legacy - out.img", "TERM", 143 },
    };

    [Theory]
    [MemberData(nameof(StalledInputs))]
    public void A_signal_while_the_input_stalls_ends_the_run_with_its_code_and_no_output_file(string command, string signal, int code)
    {
        var image = File.ReadAllBytes(Path.Combine(_dir, command.StartsWith("convert", StringComparison.Ordinal) ? "legacy.img" : "big.img"));
        var before = Files();
        using var p = Start(command.Split(' '));
        _ = p.StandardOutput.ReadToEndAsync();
        // Part of the image, then nothing: xenstream waits in a read.
        p.StandardInput.BaseStream.Write(image, 0, image.Length / 3);
        p.StandardInput.BaseStream.Flush();
        WaitBlockedIn(p, "read");
        Kill(p, signal);
        var (exit, err) = Finish(p);
        Assert.Equal(code, exit);
        OneClearLine(err, "xenstream: interrupted");
        Assert.Equal(before, Files());
    }

    [Theory]
    [InlineData("dump big.img", "TERM", 143)]
    [InlineData("dump --json big.img", "INT", 130)]
    [InlineData("sample --guest pv --memory 64M -o -", "TERM", 143)]
    [InlineData("convert-legacy big-legacy.img -", "INT", 130)]
    public void A_signal_while_the_reader_of_standard_output_stalls_ends_the_run(string command, string signal, int code)
    {
        if (command.Contains("big-legacy", StringComparison.Ordinal)) BigLegacy();
        var before = Files();
        // Standard output is never read: once its pipe is full, xenstream waits in a write.
        using var p = Start(command.Split(' '));
        WaitBlockedIn(p, "write");
        Kill(p, signal);
        var (exit, err) = Finish(p);
        Assert.Equal(code, exit);
        OneClearLine(err, "xenstream: interrupted");
        Assert.Equal(before, Files());
    }

    [Fact]
    public async System.Threading.Tasks.Task SIGPIPE_sent_mid_run_is_ignored_and_the_run_completes()
    {
        var image = File.ReadAllBytes(Path.Combine(_dir, "big.img"));
        using var p = Start("verify", "-");
        var @out = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(image, 0, image.Length / 2);
        p.StandardInput.BaseStream.Flush();
        WaitBlockedIn(p, "read");
        Kill(p, "PIPE");
        Thread.Sleep(200);
        Assert.False(p.HasExited, "SIGPIPE ended the run");
        p.StandardInput.BaseStream.Write(image, image.Length / 2, image.Length - image.Length / 2);
        p.StandardInput.Close();
        var (exit, err) = Finish(p);
        Assert.True(exit == 0, err);
        Assert.StartsWith("VALID: (stdin)", await @out);
    }
}
