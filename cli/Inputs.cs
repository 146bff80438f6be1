using System;
using System.IO;
using System.Runtime.InteropServices;
using FormatGen.Xen;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Cli;

/// <summary>Opening inputs and outputs the way operators expect: '-' is stdin/stdout, no file is the built-in sample.</summary>
internal static class Inputs
{
    public const string SampleDescription = "a built-in sample (x86 PV guest, 16 MiB, version 3, little-endian)";

    /// <summary>Opens FILE, '-' (stdin), or null (the built-in sample) for reading only.</summary>
    public static Stream Open(string? path, out string name)
    {
        if (path is null)
        {
            name = "(built-in sample)";
            var ms = new MemoryStream();
            LibxcSample.Write(ms, new SampleOptions());
            ms.Position = 0;
            return ms;
        }
        if (path == "-")
        {
            name = "(stdin)";
            GrowPipe(0);
            return new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        }
        name = path;
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
    }

    /// <summary>
    /// Writes to a temporary file beside <paramref name="path"/> and renames it
    /// into place only when <paramref name="write"/> succeeds, so a failure
    /// never leaves a half-written file. '-' writes to stdout.
    /// </summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        if (path == "-")
        {
            using var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 1 << 20);
            write(stdout);
            return;
        }
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Environment.ProcessId + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: false);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "fcntl")]
    private static extern int Fcntl(int fd, int cmd, int arg);

    /// <summary>Asks Linux for a 1 MiB pipe buffer on stdin: fewer, larger reads.</summary>
    private static void GrowPipe(int fd)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int F_SETPIPE_SZ = 1031;
        try { Fcntl(fd, F_SETPIPE_SZ, 1 << 20); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
