using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace FormatGen.Runtime.Internal;

/// <summary>
/// Kaitai's process routines and their inverses: xor with a byte or a cycled
/// key, rotation of each octet, zlib. For generated code only.
/// </summary>
public static class FgProcess
{
    /// <summary>The most octets a zlib field may inflate to: a bomb is an error, not an allocation.</summary>
    public const int InflateLimit = 256 << 20;

    public static byte[] Xor(ReadOnlySpan<byte> data, long key)
    {
        var r = data.ToArray();
        byte k = unchecked((byte)key);
        for (int i = 0; i < r.Length; i++) r[i] ^= k;
        return r;
    }

    public static byte[] Xor(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, string field, long offset)
    {
        if (key.IsEmpty) throw FgException.Invalid("process", field, offset, "xor with an empty key");
        var r = data.ToArray();
        for (int i = 0; i < r.Length; i++) r[i] ^= key[i % key.Length];
        return r;
    }

    /// <summary>Each octet rotated left by <paramref name="amount"/> bits (Kaitai's rol; ror(n) is rol(8 - n)).</summary>
    public static byte[] RotateLeft(ReadOnlySpan<byte> data, long amount)
    {
        int n = (int)(((amount % 8) + 8) % 8);
        var r = data.ToArray();
        if (n == 0) return r;
        for (int i = 0; i < r.Length; i++) r[i] = (byte)((r[i] << n) | (r[i] >> (8 - n)));
        return r;
    }

    /// <summary>
    /// Inflates zlib data (RFC 1950): header, deflate stream, Adler-32 of the
    /// result. Data that is not zlib, is cut short or corrupt (the checksum does
    /// not match), or inflates past the limit is a structural error of the field.
    /// </summary>
    public static byte[] Inflate(ReadOnlySpan<byte> data, string field, long offset, long limit = InflateLimit)
    {
        if (data.Length < 6) throw Bad(field, offset, "not zlib data: " + data.Length.ToString(CultureInfo.InvariantCulture) + " octets are too few");
        int cmf = data[0], flg = data[1];
        if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 != 0)
            throw Bad(field, offset, "not zlib data: the header 0x" + cmf.ToString("x2", CultureInfo.InvariantCulture) + flg.ToString("x2", CultureInfo.InvariantCulture) + " is not a zlib header");
        if ((flg & 0x20) != 0) throw Bad(field, offset, "zlib data with a preset dictionary cannot be inflated");
        byte[] result;
        try
        {
            using var input = new MemoryStream(data.Slice(2, data.Length - 6).ToArray(), writable: false);
            using var z = new DeflateStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = z.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + n > limit)
                    throw Bad(field, offset, string.Create(CultureInfo.InvariantCulture, $"inflates to more than {limit} octets"));
                output.Write(buffer, 0, n);
            }
            result = output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw Bad(field, offset, "corrupt zlib data: " + e.Message);
        }
        uint expected = (uint)(data[^4] << 24 | data[^3] << 16 | data[^2] << 8 | data[^1]);
        uint actual = Adler32(result);
        if (actual != expected)
            throw Bad(field, offset, "corrupt or cut-short zlib data: the checksum is 0x" + expected.ToString("x8", CultureInfo.InvariantCulture)
                + ", the inflated octets give 0x" + actual.ToString("x8", CultureInfo.InvariantCulture));
        return result;
    }

    private static FgException Bad(string field, long offset, string detail) => FgException.Invalid("zlib", field, offset, detail);

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, 5552);
            foreach (var x in data.Slice(0, n)) { a += x; b += a; }
            a %= 65521;
            b %= 65521;
            data = data.Slice(n);
        }
        return (b << 16) | a;
    }

    /// <summary>
    /// The zlib octets to write for <paramref name="value"/>: the octets read
    /// (<paramref name="raw"/>) when they still inflate to it, so read-then-write
    /// gives back the input; otherwise the value compressed anew.
    /// </summary>
    public static byte[] Deflate(ReadOnlySpan<byte> value, ReadOnlyMemory<byte> raw)
    {
        if (!raw.IsEmpty)
        {
            try
            {
                if (Inflate(raw.Span, "", 0, value.Length + 1L).AsSpan().SequenceEqual(value)) return raw.ToArray();
            }
            catch (FgException)
            {
                // Not the octets of this value: compress anew.
            }
        }
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) z.Write(value);
        return output.ToArray();
    }
}
