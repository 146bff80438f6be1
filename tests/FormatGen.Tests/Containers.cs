using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FormatGen.Tests;

/// <summary>
/// Test-side writer of the libxl and xl containers, octet by octet from Xen's
/// headers (libxl_sr_stream_format.h, xl.h), around a libxc stream: inputs for
/// the oracle and the container tests, independent of the generated writers.
/// </summary>
internal static class Containers
{
    public const ulong LibxlIdent = 0x4c6962786c466d74;

    /// <summary>A libxl record: type, length, body, zero padding to 8.</summary>
    public static byte[] Record(uint type, byte[] body, bool bigEndian = false)
    {
        var r = new byte[8 + (body.Length + 7) / 8 * 8];
        U32(r, 0, type, bigEndian);
        U32(r, 4, (uint)body.Length, bigEndian);
        body.CopyTo(r, 8);
        return r;
    }

    /// <summary>EMULATOR_XENSTORE_DATA: emulator id, index, NUL-terminated strings.</summary>
    public static byte[] XenstoreData(uint emulator, uint index, IEnumerable<string> strings, bool bigEndian = false)
    {
        var head = new byte[8];
        U32(head, 0, emulator, bigEndian);
        U32(head, 4, index, bigEndian);
        return Record(2, head.Concat(strings.SelectMany(s => Encoding.ASCII.GetBytes(s).Append((byte)0))).ToArray(), bigEndian);
    }

    /// <summary>EMULATOR_CONTEXT: emulator id, index, opaque state.</summary>
    public static byte[] EmulatorContext(uint emulator, uint index, byte[] state, bool bigEndian = false)
    {
        var head = new byte[8];
        U32(head, 0, emulator, bigEndian);
        U32(head, 4, index, bigEndian);
        return Record(3, head.Concat(state).ToArray(), bigEndian);
    }

    /// <summary>A plain libxl stream: header, LIBXC_CONTEXT and the libxc stream, the emulator records, END.</summary>
    public static byte[] Libxl(byte[] libxc, bool bigEndian = false, bool legacy = false, params byte[][] emulatorRecords)
    {
        var ms = new MemoryStream();
        var h = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(h, LibxlIdent);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(12), (bigEndian ? 1u : 0u) | (legacy ? 2u : 0u));
        ms.Write(h);
        ms.Write(Record(1, Array.Empty<byte>(), bigEndian));
        ms.Write(libxc);
        foreach (var r in emulatorRecords) ms.Write(r);
        ms.Write(Record(0, Array.Empty<byte>(), bigEndian));
        return ms.ToArray();
    }

    public static readonly byte[] XlMagic = Encoding.ASCII.GetBytes("Xen saved domain, xl format\n \0 \r");

    /// <summary>An xl save file: magic, byte order, flags, the configuration, then the domain.</summary>
    public static byte[] Xl(byte[] domain, string? config, bool json, bool v2 = true, bool bigEndian = false, uint extraFlags = 0)
    {
        var ms = new MemoryStream();
        ms.Write(XlMagic);
        var optional = new List<byte>();
        if (config is not null)
        {
            var text = Encoding.UTF8.GetBytes(config).Append((byte)0).ToArray();
            var len = new byte[4];
            U32(len, 0, (uint)text.Length, bigEndian);
            optional.AddRange(len);
            optional.AddRange(text);
        }
        var h = new byte[16];
        U32(h, 0, 0x01020304, bigEndian);
        U32(h, 4, (json ? 1u : 0u) | (v2 ? 2u : 0u) | extraFlags, bigEndian);
        U32(h, 8, 0, bigEndian);
        U32(h, 12, (uint)optional.Count, bigEndian);
        ms.Write(h);
        ms.Write(optional.ToArray());
        ms.Write(domain);
        return ms.ToArray();
    }

    private static void U32(byte[] b, int at, uint v, bool bigEndian)
    {
        if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    }
}
