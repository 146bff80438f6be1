using System;
using System.IO;

namespace FormatGen.Xen;

/// <summary>
/// Lets a caller look at the first octets of a non-seekable stream (a pipe)
/// and then read it from the start. Seekable streams are rewound instead.
/// </summary>
public sealed class PeekStream : Stream
{
    private readonly Stream _inner;
    private readonly byte[] _head;
    private int _headPos;
    private readonly int _headLength;

    private PeekStream(Stream inner, byte[] head, int length)
    {
        _inner = inner;
        _head = head;
        _headLength = length;
    }

    /// <summary>Reads up to <paramref name="count"/> octets; returns a stream that yields them again, then the rest.</summary>
    public static Stream Peek(Stream input, int count, out byte[] head)
    {
        var buf = new byte[count];
        int n = 0;
        while (n < count)
        {
            int r = input.Read(buf, n, count - n);
            if (r <= 0) break;
            n += r;
        }
        head = buf.AsSpan(0, n).ToArray();
        if (input.CanSeek)
        {
            input.Seek(-n, SeekOrigin.Current);
            return input;
        }
        return new PeekStream(input, buf, n);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_headPos < _headLength)
        {
            int n = Math.Min(buffer.Length, _headLength - _headPos);
            _head.AsSpan(_headPos, n).CopyTo(buffer);
            _headPos += n;
            return n;
        }
        return _inner.Read(buffer);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
