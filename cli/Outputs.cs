using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace FormatGen.Cli;

/// <summary>
/// A write to an output that failed, said as an operator reads it: which output
/// (standard output, a file) and why (its reader went away, the disk is full,
/// the descriptor is not open). <see cref="BrokenPipe"/>: the reader of a pipe
/// closed it, as `xenstream dump big.img | head` does.
/// </summary>
internal sealed class OutputException(string output, string reason, bool brokenPipe, Exception? inner = null)
    : IOException("cannot write " + output + ": " + reason, inner)
{
    public bool BrokenPipe { get; } = brokenPipe;
}

/// <summary>
/// Outputs the way operators expect: standard output written with write(2), as
/// .NET's console stream does, but a failed write is an error (the console
/// stream drops what a closed pipe refuses and goes on), and errors said in words.
/// </summary>
internal static class Outputs
{
    public const int EIO = 5, EBADF = 9, EAGAIN = 11, EINTR = 4, EFBIG = 27, ENOSPC = 28, EPIPE = 32, EDQUOT = 122;

    /// <summary>The exit code when standard output's reader went away: that of a process SIGPIPE ended (128 + 13).</summary>
    public const int BrokenPipeExit = 141;

    /// <summary>Standard output, unbuffered: callers buffer.</summary>
    public static Stream StandardOutput() => new DescriptorStream(1, "standard output");

    /// <summary>A descriptor named on the command line (convert-legacy-stream's -o 4).</summary>
    public static Stream Descriptor(int fd) => new DescriptorStream(fd, "file descriptor " + fd.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Standard error, whose failures are dropped: there is nowhere left to say them.</summary>
    public static Stream StandardError() => new DescriptorStream(2, "standard error", dropFailures: true);

    /// <summary>Why a write failed, from its errno, in words.</summary>
    public static string Reason(int errno) => errno switch
    {
        EPIPE => "its reader closed the pipe (broken pipe)",
        ENOSPC => "no space left on the device",
        EDQUOT => "the disk quota is used up",
        EFBIG => "the file would grow past what the file system or its limit (ulimit -f) allows",
        EBADF => "it is not open (the descriptor was closed, or opened for reading only)",
        EIO => "input/output error on the device",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };

    /// <summary>
    /// The errno of a failed .NET file write when only a write can have failed so
    /// (a full disk, a quota, a file size limit, a pipe's reader gone): those are
    /// the output's fault whatever else was being read. -1 for anything else.
    /// </summary>
    public static int OutputErrno(Exception e) => e is IOException { HResult: ENOSPC or EDQUOT or EFBIG or EPIPE } io and not OutputException ? io.HResult : -1;

    /// <summary>Writes go to a file descriptor with write(2), moving its shared offset as any Unix tool's do.</summary>
    private sealed class DescriptorStream(int fd, string name, bool dropFailures = false) : Stream
    {
        private bool _failed;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> data)
        {
            if (_failed) return;
            int at = 0;
            while (at < data.Length)
            {
                nint n = WriteFd(fd, ref MemoryMarshal.GetReference(data[at..]), data.Length - at);
                if (n >= 0) { at += (int)n; continue; }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == EAGAIN) { Thread.Sleep(1); continue; } // a non-blocking descriptor that is full: wait for room
                if (dropFailures) { _failed = true; return; }
                throw new OutputException(name, Reason(errno), errno == EPIPE);
            }
        }

        public override void WriteByte(byte value) => Write([value]);

        [DllImport("libc", SetLastError = true, EntryPoint = "write")]
        private static extern nint WriteFd(int fd, ref byte buffer, nint count);
    }
}
