using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Tests;

/// <summary>Builds test streams: valid ones with the library's writer, broken ones by hand.</summary>
internal static class Streams
{
    public static byte[] Sample(GuestKind guest = GuestKind.Pv, uint version = 3, bool bigEndian = false, long memory = 2 << 20)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = guest, Version = version, BigEndian = bigEndian, MemoryBytes = memory });
        return ms.ToArray();
    }

    /// <summary>A stream of the given records (END appended unless present), written by the generated writer.</summary>
    public static byte[] Of(DomainType domain, uint version, bool bigEndian, params IRecordBody[] bodies)
    {
        var ms = new MemoryStream();
        var w = new LibxcStreamWriter(ms,
            new ImageHeader { Version = version, Options = (ushort)(bigEndian ? 1 : 0) },
            new DomainHeader { Type = domain, PageShift = 12, XenMajor = 4, XenMinor = 19 });
        foreach (var b in bodies) w.Write(new Record { Body = b });
        if (bodies.Length == 0 || bodies[^1] is not End) w.Write(new Record { Body = new End() });
        return ms.ToArray();
    }

    /// <summary>Octets of one record built by hand: type, length, body, zero padding.</summary>
    public static byte[] Raw(uint type, byte[] body, bool bigEndian = false, int? lengthField = null)
    {
        int pad = (8 - body.Length % 8) % 8;
        var r = new byte[8 + body.Length + pad];
        U4(r, 0, type, bigEndian);
        U4(r, 4, (uint)(lengthField ?? body.Length), bigEndian);
        body.CopyTo(r, 8);
        return r;
    }

    public static void U4(byte[] d, int at, uint v, bool be = false)
    {
        if (be) BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(at), v);
        else BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at), v);
    }

    public static void U8(byte[] d, int at, ulong v, bool be = false)
    {
        if (be) BinaryPrimitives.WriteUInt64BigEndian(d.AsSpan(at), v);
        else BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(at), v);
    }

    /// <summary>Offsets of each record (scan of a valid stream).</summary>
    public static List<long> RecordOffsets(byte[] image)
    {
        var list = new List<long>();
        using var r = new LibxcReader(new MemoryStream(image));
        while (r.MoveNext(build: false)) list.Add(r.Offset);
        return list;
    }

    /// <summary>Replaces record <paramref name="index"/> with <paramref name="raw"/> octets (or inserts before it).</summary>
    public static byte[] Splice(byte[] image, int index, byte[] raw, bool replace = true)
    {
        var offs = RecordOffsets(image);
        long start = offs[index];
        long end = replace ? (index + 1 < offs.Count ? offs[index + 1] : image.Length) : start;
        var result = new byte[image.Length - (end - start) + raw.Length];
        Array.Copy(image, 0, result, 0, start);
        Array.Copy(raw, 0, result, start, raw.Length);
        Array.Copy(image, end, result, start + raw.Length, image.Length - end);
        return result;
    }

    /// <summary>Everything a full verification finds: violations of every record, or the structural error.</summary>
    public static (List<FgViolation> Violations, FgException? Error, int Records) Verify(byte[] image, FgStreamOptions? options = null)
        => Verify(new MemoryStream(image), options);

    public static (List<FgViolation> Violations, FgException? Error, int Records) Verify(Stream input, FgStreamOptions? options = null)
    {
        var list = new List<FgViolation>();
        int n = 0;
        using var r = new LibxcReader(input, options);
        try
        {
            r.ReadHeaders();
            list.AddRange(r.Violations);
            while (r.MoveNext(build: false))
            {
                n++;
                list.AddRange(r.Violations);
            }
        }
        catch (FgException e)
        {
            return (list, e, n);
        }
        return (list, null, n);
    }

    /// <summary>A pipe-like stream: not seekable, at most <paramref name="maxChunk"/> octets per read (a random 1..max with a seed).</summary>
    public sealed class Pipe(byte[] data, int maxChunk, int? seed = null) : Stream
    {
        private readonly Random? _rng = seed is { } s ? new Random(s) : null;
        private int _pos;
        public override int Read(byte[] buffer, int offset, int count)
        {
            int chunk = _rng is null ? maxChunk : 1 + _rng.Next(maxChunk);
            int n = Math.Min(Math.Min(count, chunk), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin s) => throw new NotSupportedException();
        public override void SetLength(long v) => throw new NotSupportedException();
        public override void Write(byte[] b, int o, int c) => throw new NotSupportedException();
    }

    /// <summary>A slow pipe: 1 to 7 octets per read.</summary>
    public static Stream Trickle(byte[] data, int seed) => new Pipe(data, 7, seed);

    /// <summary>A pipe returning <paramref name="chunk"/> octets per read.</summary>
    public static Stream Chunked(byte[] data, int chunk) => new Pipe(data, chunk);
}
