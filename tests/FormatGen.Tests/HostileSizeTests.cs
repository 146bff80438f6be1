using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// An input that claims a huge size (a record, a container's data, a legacy
/// image's page count) in a few octets costs no more than a mebibyte to refuse:
/// nothing is allocated on the input's word.
/// </summary>
public class HostileSizeTests
{
    private static long Allocated(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try { read(); }
        catch (FgException) { }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // The first octets of a valid stream of each kind, then a claim of `size`, then 16 octets.
    private static byte[] Claim(string kind, uint size)
    {
        var libxc = Streams.Sample(GuestKind.Hvm, 3, memory: 64 << 10);
        byte[] head, claim;
        switch (kind)
        {
            case "libxc record":
                head = libxc.AsSpan(0, 24 + 16).ToArray();               // image and domain headers
                claim = new byte[8];
                BinaryPrimitives.WriteUInt32LittleEndian(claim, 1);      // PAGE_DATA
                BinaryPrimitives.WriteUInt32LittleEndian(claim.AsSpan(4), size);
                break;
            case "libxl record":
                var libxl = Containers.Libxl(libxc);
                head = libxl.AsSpan(0, 8 + 8).ToArray();                  // the libxl header
                claim = new byte[8];
                BinaryPrimitives.WriteUInt32LittleEndian(claim, 1);      // LIBXC_CONTEXT
                BinaryPrimitives.WriteUInt32LittleEndian(claim.AsSpan(4), size);
                break;
            case "xl optional data":
                var xl = Containers.Xl(Containers.Libxl(libxc), "{}", json: true);
                head = xl.AsSpan(0, 32 + 4 + 4 + 4).ToArray();            // magic, byte order, flags
                claim = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(claim, size);   // optional_data_len
                break;
            default:                                                      // a legacy image's p2m size
                head = [];
                claim = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(claim, size);
                break;
        }
        return [.. head, .. claim, .. Enumerable.Repeat((byte)0x41, 16)];
    }

    [Fact]
    public void A_claim_of_gigabytes_in_a_few_octets_allocates_at_most_a_mebibyte()
    {
        var kinds = new[] { "libxc record", "libxl record", "xl optional data", "legacy p2m size" };
        Prop.ForAll(Gen.Elements(kinds).ToArbitrary(), Gen.Choose(20, 32).Select(b => (uint)Math.Min((1L << b) - 8, uint.MaxValue - 7)).ToArbitrary(), (kind, size) =>
        {
            var input = Claim(kind, size);
            // Warm: the first reading of a kind builds its tables and delegates once.
            foreach (var i in new[] { 0, 1 })
            {
                long memory = Allocated(() => Read(kind, input, fromMemory: true));
                long stream = Allocated(() => Read(kind, input, fromMemory: false));
                long pipe = kind.StartsWith("legacy", StringComparison.Ordinal) ? 0 : Allocated(() =>
                {
                    using var r = new XenReader(System.IO.Pipelines.PipeReader.Create(new MemoryStream(input)));
                    while (r.MoveNext(build: true)) { }
                });
                if (i == 1)
                {
                    Assert.True(memory < 1 << 20, $"{kind} claiming {size} octets: {memory} octets allocated reading from memory");
                    Assert.True(stream < 1 << 20, $"{kind} claiming {size} octets: {stream} octets allocated reading a stream");
                    Assert.True(pipe < 1 << 20, $"{kind} claiming {size} octets: {pipe} octets allocated reading a PipeReader");
                }
            }
        }).QuickCheckThrowOnFailure();
    }

    private static void Read(string kind, byte[] input, bool fromMemory)
    {
        if (kind.StartsWith("legacy", StringComparison.Ordinal))
        {
            if (fromMemory) LegacyConverter.Convert(input, Stream.Null);
            else LegacyConverter.Convert(Streams.Trickle(input, 7), Stream.Null);
            return;
        }
        using var r = fromMemory ? new XenReader(input) : new XenReader(Streams.Trickle(input, 7));
        while (r.MoveNext(build: true)) { }
    }
}
