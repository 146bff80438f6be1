using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Runtime.Internal;

/// <summary>
/// A larger buffer for a pipe read on Linux: 1 MiB instead of 64 KiB, so the
/// writer blocks, and both sides switch, a sixteenth as often. Elsewhere, and
/// for anything that is not a pipe, nothing is done.
/// </summary>
internal static class FgPipe
{
    private const int SetPipeSize = 1031;   // F_SETPIPE_SZ
    private const int GetPipeSize = 1032;   // F_GETPIPE_SZ
    private const int Size = 1 << 20;       // /proc/sys/fs/pipe-max-size's default: allowed unprivileged

    public static void Enlarge(Stream input)
    {
        if (!OperatingSystem.IsLinux() || input is not FileStream { CanSeek: false } fs) return;
        try
        {
            var handle = fs.SafeFileHandle;
            int size = Fcntl(handle, GetPipeSize, 0);
            if (size >= 0 && size < Size) Fcntl(handle, SetPipeSize, Size); // may be refused: then it stays as it was
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ObjectDisposedException) { }
    }

    private static int Fcntl(SafeFileHandle handle, int command, int argument)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return fcntl((int)handle.DangerousGetHandle(), command, argument);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);
}
