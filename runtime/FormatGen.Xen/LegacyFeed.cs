using System;
using System.Collections.Generic;
using System.IO;

namespace FormatGen.Xen;

/// <summary>
/// The converted stream as our verifier reads it, produced on demand: when
/// the verifier wants more octets, <see cref="Read(byte[], int, int)"/> runs
/// the converter one step, which writes the output and queues the same octets
/// here. Bulk data the converter copies without looking at it (page contents,
/// the emulator's state) is queued as an opaque run of that many octets: no
/// rule reads them, so the verifier skips them and they are never copied.
/// Single-threaded: the verifier pulls, the converter produces.
/// </summary>
internal sealed class LegacyFeed : Stream
{
    private readonly Func<bool> _step;
    private readonly Queue<(bool Opaque, long Length)> _segments = new();
    private byte[] _bytes = new byte[64 << 10];
    private int _bytesStart, _bytesEnd;
    private long _segmentLeft;
    private bool _segmentOpaque;
    private bool _done;

    /// <param name="step">Runs the converter one step; false once it has finished.</param>
    public LegacyFeed(Func<bool> step) => _step = step;

    /// <summary>Octets the verifier has taken.</summary>
    public long Taken { get; private set; }

    public void Add(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        if (_bytesStart == _bytesEnd) _bytesStart = _bytesEnd = 0;
        if (_bytes.Length - _bytesEnd < data.Length)
        {
            int live = _bytesEnd - _bytesStart;
            var target = live + data.Length > _bytes.Length ? new byte[Math.Max(_bytes.Length * 2, live + data.Length)] : _bytes;
            Buffer.BlockCopy(_bytes, _bytesStart, target, 0, live);
            _bytes = target;
            _bytesStart = 0;
            _bytesEnd = live;
        }
        data.CopyTo(_bytes.AsSpan(_bytesEnd));
        _bytesEnd += data.Length;
        _segments.Enqueue((false, data.Length));
    }

    public void AddOpaque(long length)
    {
        if (length > 0) _segments.Enqueue((true, length));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_segmentLeft == 0)
        {
            if (_segments.TryDequeue(out var s))
            {
                _segmentLeft = s.Length;
                _segmentOpaque = s.Opaque;
                continue;
            }
            if (_done) return 0;
            // The last step may still have queued octets.
            if (!_step()) _done = true;
        }
        int n = (int)Math.Min(buffer.Length, _segmentLeft);
        if (!_segmentOpaque)
        {
            _bytes.AsSpan(_bytesStart, n).CopyTo(buffer);
            _bytesStart += n;
        }
        // Opaque octets: the verifier skips them; what lands in its buffer is not looked at.
        _segmentLeft -= n;
        Taken += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Taken; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>What the generated stream writers write to: the output, and the same octets to the verifier.</summary>
internal sealed class LegacyTee : Stream
{
    private readonly FormatGen.Runtime.FgOutput _output;
    private readonly LegacyFeed _feed;

    public LegacyTee(FormatGen.Runtime.FgOutput output, LegacyFeed feed)
    {
        _output = output;
        _feed = feed;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _output.Write(buffer);
        _feed.Add(buffer);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _output.Position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
