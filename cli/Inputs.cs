using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using FormatGen.Xen;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Cli;

/// <summary>Opening inputs and outputs the way operators expect: '-' is stdin/stdout, never a surprise.</summary>
internal static class Inputs
{
    public const string SampleDescription = "an x86 PV guest of 16 MiB, version 3, little-endian";

    /// <summary>
    /// Opens the input of a reading command: FILE, '-' (stdin), standard input
    /// when no FILE is given and it is not a terminal, or the built-in sample
    /// when asked for. Throws <see cref="UsageException"/> with a one-line reason.
    /// </summary>
    public static Stream Open(string? path, bool sample, out string name)
    {
        if (sample)
        {
            if (path is not null) throw new UsageException("give a FILE or --sample, not both");
            name = "(built-in sample)";
            var ms = new MemoryStream();
            LibxcSample.Write(ms, new SampleOptions());
            ms.Position = 0;
            return ms;
        }
        if (path is null)
        {
            if (!Console.IsInputRedirected) throw new UsageException("no input: give a FILE, - for standard input, or --sample");
            path = "-";
        }
        if (path == "-")
        {
            name = "(stdin)";
            GrowPipe(0);
            return new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        }
        // verify-stream-v2's -i takes a file descriptor number too.
        if (IsFd(path))
        {
            int fd = int.Parse(path, System.Globalization.CultureInfo.InvariantCulture);
            name = "(fd " + path + ")";
            if (fd == 0) GrowPipe(0);
            try { return new FileStream(new SafeFileHandle(fd, ownsHandle: false), FileAccess.Read, bufferSize: 0); }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { throw new UsageException("file descriptor " + path + " cannot be read: " + e.Message); }
        }
        name = path;
        if (path.Length == 0) throw new UsageException("'' is not a file name (an empty argument: is a variable unset?)");
        if (Directory.Exists(path)) throw new UsageException(path + ": is a directory");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (FileNotFoundException) { throw new UsageException(path + ": no such file"); }
        catch (DirectoryNotFoundException) { throw new UsageException(path + ": no such file (nor its directory)"); }
        catch (UnauthorizedAccessException) { throw new UsageException(path + ": permission denied"); }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException) { throw new UsageException(path + ": cannot be opened: " + e.Message); }
    }

    /// <summary>Whether the output names the file the input was opened from (the input is never modified).</summary>
    public static bool SameFile(Stream input, string output)
    {
        if (input is not FileStream fs || output == "-" || IsFd(output) || !File.Exists(output)) return false;
        try { return Resolved(fs.Name) == Resolved(output); }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>A path with its symbolic links followed (the output's is replaced, not the link).</summary>
    private static string Resolved(string path)
        => new FileInfo(Path.GetFullPath(path)) is { LinkTarget: not null } link ? link.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? link.FullName : Path.GetFullPath(path);

    /// <summary>A file descriptor number as Xen's tools take one (-i 0, -o 4): digits that name no file here.</summary>
    public static bool IsFd(string path) => path.Length is > 0 and < 6 && path.All(char.IsAsciiDigit) && !File.Exists(path);

    /// <summary>
    /// Writes to a temporary file beside <paramref name="path"/> and renames it
    /// into place only when <paramref name="write"/> succeeds, so a failure or
    /// an interruption never leaves a half-written file. '-' writes to stdout.
    /// A symbolic link is followed (the file it names is replaced, the link
    /// stays); an existing output that is no regular file (a FIFO, a device
    /// such as /dev/null) is written to as it is: it cannot hold half a file.
    /// </summary>
    public static void WriteAtomically(string path, Action<Stream> write, Interrupted? interrupted = null)
    {
        if (path == "-")
        {
            GrowPipe(1);
            using var stdout = new BufferedStream(Outputs.StandardOutput(), 1 << 20);
            write(stdout);
            stdout.Flush();
            return;
        }
        var full = Path.GetFullPath(path);
        // stat follows links: /dev/stdout naming a pipe is a pipe (its link's target, pipe:[N], names no file).
        if (IsSpecial(full))
        {
            try
            {
                using var special = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1 << 20);
                write(special);
            }
            catch (Exception e) when (Outputs.OutputErrno(e) is var errno and >= 0) { throw new OutputException(path, Outputs.Reason(errno), errno == Outputs.EPIPE, e); }
            return;
        }
        if (new FileInfo(full).LinkTarget is not null && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target) full = target.FullName;
        var tmp = TempBeside(full);
        // A signal while the work is stuck (a stalled input) exits without it: the temporary file goes first.
        if (interrupted is not null) interrupted.Cleanup = () => { try { File.Delete(tmp); } catch (IOException) { } };
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: false);
            }
            File.Move(tmp, full, overwrite: true);
            if (interrupted is not null) interrupted.Cleanup = null;
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { }
            // A full disk is the output's fault, whatever else the work was doing: said so, and nothing is left behind.
            if (Outputs.OutputErrno(e) is var errno and >= 0) throw new OutputException(path, Outputs.Reason(errno) + "; nothing was written (the partial output was removed)", brokenPipe: false, e);
            throw;
        }
    }

    /// <summary>
    /// Whether a path names an existing FIFO, socket or device (what .NET
    /// reports as a plain file): stat(2)'s file type, read where the C
    /// library puts st_mode on x64 (offset 24) and arm64 (16); elsewhere false.
    /// </summary>
    private static bool IsSpecial(string path)
    {
        int at = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => 24,
            System.Runtime.InteropServices.Architecture.Arm64 => 16,
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || at < 0) return false;
        var buf = new byte[256];
        var name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        try
        {
            if (Stat(name, buf) != 0) return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
        uint type = BitConverter.ToUInt32(buf, at) & 0xF000; // S_IFMT
        return type is 0x1000 or 0x2000 or 0x6000 or 0xC000; // FIFO, character device, block device, socket
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "stat")]
    private static extern int Stat(byte[] path, byte[] buf);

    /// <summary>The temporary name <see cref="WriteAtomically"/> writes to before the rename.</summary>
    private static string TempBeside(string fullPath)
        => Path.Combine(Path.GetDirectoryName(fullPath)!, "." + Path.GetFileName(fullPath) + "." + Environment.ProcessId + ".tmp");

    /// <summary>
    /// A token cancelled by Ctrl-C or SIGTERM, so long work stops cleanly (its
    /// temporary file removed); <see cref="Interrupted.Signal"/> says which.
    /// </summary>
    public sealed class Interrupted : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly PosixSignalRegistration _int, _term;

        public Interrupted()
        {
            _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, On);
            _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, On);
        }

        public CancellationToken Token => _cts.Token;

        /// <summary>
        /// How long the work has to stop on its own after the signal before the
        /// process exits without it (work blocked in a read or a write never sees
        /// the token). Zero: at once, for work with nothing to clean up.
        /// </summary>
        public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(1);

        /// <summary>Run before the process exits on its own when the work does not stop within <see cref="Grace"/> of the signal.</summary>
        public Action? Cleanup { get; set; }

        /// <summary>What is said then, on standard error.</summary>
        public string? Farewell { get; set; }

        /// <summary>The signal that arrived, if any.</summary>
        public PosixSignal? Signal { get; private set; }

        /// <summary>The exit code of a process ended by the signal: 128 + its number.</summary>
        public int ExitCode => 128 + (Signal == PosixSignal.SIGTERM ? 15 : 2);

        private void On(PosixSignalContext context)
        {
            context.Cancel = true; // stop cooperatively: the work cleans up and exits
            Signal ??= context.Signal;
            _cts.Cancel();
            // Work blocked in a read or a write (a pipe that stalls) never sees the token: give it its grace, then leave
            // (unless it has finished by then: its own ending stands).
            var exit = ExitCode;
            var grace = Grace;
            new Thread(() =>
            {
                Thread.Sleep(grace);
                if (_finished) return;
                Cleanup?.Invoke();
                if (Farewell is not null) Console.Error.WriteLine(Farewell);
                Environment.Exit(exit);
            }) { IsBackground = true }.Start();
        }

        private volatile bool _finished;

        public void Dispose()
        {
            _finished = true;
            _int.Dispose();
            _term.Dispose();
            _cts.Dispose();
        }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "fcntl")]
    private static extern int Fcntl(int fd, int cmd, int arg);

    /// <summary>Asks Linux for a 1 MiB pipe buffer (stdin, stdout): fewer, larger reads and writes.</summary>
    private static void GrowPipe(int fd)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int F_SETPIPE_SZ = 1031;
        try { Fcntl(fd, F_SETPIPE_SZ, 1 << 20); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
