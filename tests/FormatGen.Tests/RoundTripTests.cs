using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using Record = FormatGen.Xen.Libxc.Record;

namespace FormatGen.Tests;

/// <summary>
/// Properties: any model the generators produce writes and reads back equal
/// and validates; any valid stream reads and writes back byte-identical.
/// </summary>
public class RoundTripTests
{
    private static readonly PageType[] PageTypes = Enum.GetValues<PageType>();

    private static Gen<byte[]> Bytes(int min, int max) =>
        from n in Gen.Choose(min, max)
        from b in Gen.ArrayOf(Gen.Choose(0, 255).Select(x => (byte)x), n)
        select b;

    private static Gen<uint> U4 => Gen.Choose(int.MinValue, int.MaxValue).Select(x => unchecked((uint)x));

    private static Gen<ulong> U8 => from hi in U4 from lo in U4 select ((ulong)hi << 32) | lo;

    private static Gen<PageData> PageDataGen =>
        from n in Gen.Choose(1, 6)
        from entries in Gen.ArrayOf(
            from t in Gen.Elements(PageTypes)
            from pfn in U8.Select(p => p & 0xFFFFFFFFFFFFFUL)
            select new PfnEntry { Type = t, Pfn = pfn }, n)
        from fill in Gen.Choose(0, 255)
        let pages = entries.Count(e => e.HasData)
        select new PageData { Pfns = entries, Data = Enumerable.Repeat((byte)fill, pages * 4096).ToArray() };

    private static Gen<VcpuContext> Vcpu(Gen<byte[]> context) => from id in Gen.Choose(0, 127) from ctx in context select new VcpuContext { VcpuId = (uint)id, Context = ctx };

    /// <summary>A record body valid on its own (layout rules aside) in a stream of <paramref name="version"/>.</summary>
    internal static Gen<IRecordBody> BodyGen(uint version)
    {
        var common = new List<Gen<IRecordBody>>
        {
            PageDataGen.Select(x => (IRecordBody)x),
            from w in Gen.Elements((byte)4, (byte)8) select (IRecordBody)new X86PvInfo { GuestWidth = w, PtLevels = (byte)(w == 4 ? 3 : 4) },
            from start in Gen.Choose(0, 5000) from span in Gen.Choose(0, 3000)
                select (IRecordBody)new X86PvP2mFrames
                {
                    P2mStartPfn = (uint)start, P2mEndPfn = (uint)(start + span),
                    P2mPfns = Enumerable.Range(0, (start + span) / 512 - start / 512 + 1).Select(i => (ulong)i).ToArray(),
                },
            Vcpu(Gen.Elements(2800, 5168).SelectMany(n => Bytes(n, n))).Select(v => (IRecordBody)new X86PvVcpuBasic { Vcpu = v }),
            Vcpu(Bytes(1, 128)).Select(v => (IRecordBody)new X86PvVcpuExtended { Vcpu = v }),
            Vcpu(Bytes(16, 200)).Select(v => (IRecordBody)new X86PvVcpuXsave { Vcpu = v }),
            Vcpu(Gen.Choose(1, 4).SelectMany(n => Bytes(16 * n, 16 * n))).Select(v => (IRecordBody)new X86PvVcpuMsrs { Vcpu = v }),
            Bytes(4096, 4096).Select(b => (IRecordBody)new SharedInfo { Data = b }),
            from m in Gen.Choose(0, 2) from k in U4 from ns in U8 from inc in U4 select (IRecordBody)new TscInfo { Mode = (uint)m, Khz = k, Nsec = ns, Incarnation = inc },
            Bytes(1, 100).Select(b => (IRecordBody)new HvmContext { Data = b }),
            from ps in Gen.ArrayOf(from i in Gen.Choose(0, 38) from v in U8 select new HvmParam { Index = (ulong)i, Value = v }).Where(a => a.Length > 0)
                select (IRecordBody)new HvmParams { Params = ps },
            Gen.Constant((IRecordBody)new Verify()),
            Gen.Constant((IRecordBody)new Checkpoint()),
            from t in Gen.Choose(1, 0x7fff) from b in Bytes(0, 20)
                select (IRecordBody)new RecordBodyUnknown { Key = (RecordType)(0x80000000u + (uint)t), Bytes = b },
        };
        if (version >= 3)
        {
            common.Add(from ls in Gen.ArrayOf(from a in U4 from b in U4 from c in U4 select new CpuidLeaf { Leaf = a, Subleaf = b, A = c, B = a, C = b, D = c }).Where(a => a.Length > 0)
                select (IRecordBody)new X86CpuidPolicy { Leaves = ls });
            common.Add(from es in Gen.ArrayOf(from i in U4 from v in U8 select new MsrEntry { Idx = i, Val = v }).Where(a => a.Length > 0)
                select (IRecordBody)new X86MsrPolicy { Entries = es });
        }
        return Gen.OneOf(common);
    }

    private static Arbitrary<(IRecordBody Body, uint Version, bool Le)> RecordArb =>
        (from version in Gen.Elements(2u, 3u)
         from le in Gen.Elements(true, false)
         from body in BodyGen(version)
         select (body, version, le)).ToArbitrary();

    [Fact]
    public void Any_generated_record_writes_reads_back_equal_and_validates()
    {
        Prop.ForAll(RecordArb, c =>
        {
            var record = new Record { Body = c.Body };
            var bytes = record.ToArray(12, c.Version, c.Le);
            var errors = Record.Validate(bytes, 12, c.Version, c.Le).Where(v => v.Severity == FgSeverity.Error).ToList();
            var back = Record.Read(bytes, 12, c.Version, c.Le);
            return errors.Count == 0 && back.Equals(record) && back.Type == record.Type && bytes.Length % 8 == 0;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    private static Arbitrary<(SampleOptions Options, IRecordBody[] Extra)> StreamArb =>
        (from guest in Gen.Elements(GuestKind.Pv, GuestKind.Hvm)
         from version in Gen.Elements(2u, 3u)
         from be in Gen.Elements(true, false)
         from pages in Gen.Choose(2, 2500)
         from vcpus in Gen.Choose(1, 3)
         from extra in Gen.ArrayOf(Gen.Choose(1, 3).SelectMany(n => Bytes(0, 17).Select(b => (IRecordBody)new RecordBodyUnknown { Key = (RecordType)(0x80000100u + (uint)n), Bytes = b })))
         select (new SampleOptions { Guest = guest, Version = version, BigEndian = be, MemoryBytes = pages * 4096L, Vcpus = vcpus }, extra)).ToArbitrary();

    /// <summary>Inserts optional records after the headers so streams vary beyond what the sample writes.</summary>
    private static byte[] Build(SampleOptions o, IRecordBody[] extra)
    {
        var sample = new MemoryStream();
        LibxcSample.Write(sample, o);
        var image = sample.ToArray();
        if (extra.Length == 0) return image;
        using var r = new LibxcReader(new MemoryStream(image));
        r.ReadHeaders();
        var ms = new MemoryStream();
        var w = new LibxcStreamWriter(ms, r.ImageHeader, r.DomainHeader);
        foreach (var e in extra) w.Write(new Record { Body = e });
        while (r.MoveNext()) w.Write(r.Current!);
        return ms.ToArray();
    }

    [Fact]
    public void Any_valid_stream_reads_and_writes_back_byte_identical()
    {
        Prop.ForAll(StreamArb, c =>
        {
            var image = Build(c.Options, c.Extra);
            var (violations, error, _) = Streams.Verify(image);
            if (error is not null || violations.Any(v => v.Severity == FgSeverity.Error)) return false;
            using var r = new LibxcReader(new MemoryStream(image));
            r.ReadHeaders();
            var ms = new MemoryStream();
            var w = new LibxcStreamWriter(ms, r.ImageHeader, r.DomainHeader);
            while (r.MoveNext()) w.Write(r.Current!);
            return ms.ToArray().AsSpan().SequenceEqual(image);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Theory]
    [InlineData(GuestKind.Pv, 2u, false)]
    [InlineData(GuestKind.Pv, 3u, true)]
    [InlineData(GuestKind.Hvm, 2u, true)]
    [InlineData(GuestKind.Hvm, 3u, false)]
    public void Whole_image_reads_as_one_model_and_writes_back(GuestKind guest, uint version, bool be)
    {
        var image = Streams.Sample(guest, version, be);
        var model = Libxc.Read(image);
        Assert.Equal(version, model.ImageHeader.Version);
        Assert.Equal(RecordType.End, model.Body.Records[^1].Type);
        Assert.Equal(image, model.ToArray());
        Assert.DoesNotContain(Libxc.Validate(image), v => v.Severity == FgSeverity.Error);
    }

    [Fact]
    public void A_writer_refuses_a_model_its_validator_rejects_and_writes_nothing()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var bad = new Record { Body = new X86PvInfo { GuestWidth = 5, PtLevels = 4 } };
        var e = Assert.Throws<FgInvalidModelException>(() => { bad.Write(output, 12, 3, true); });
        Assert.Contains(e.Violations, v => v.Rule == "pv-info-guest-width");
        Assert.Equal(0, output.WrittenCount);

        var ms = new MemoryStream();
        var w = new LibxcStreamWriter(ms, new ImageHeader { Version = 3 }, new DomainHeader { Type = DomainType.X86Hvm, PageShift = 12 });
        long before = ms.Length;
        Assert.Throws<FgInvalidModelException>(() => { w.Write(new Record { Body = new PageData { Pfns = new[] { new PfnEntry { Pfn = 1 } } } }); });
        Assert.Equal(before, ms.Length);
    }

    [Fact]
    public void Derived_fields_are_computed_not_set()
    {
        var pd = new PageData { Pfns = new[] { new PfnEntry { Type = PageType.Xtab, Pfn = 7 }, new PfnEntry { Type = PageType.L1tab, Pfn = 9 } }, Data = new byte[4096] };
        Assert.Equal(2u, pd.Count);
        var rec = new Record { Body = pd };
        Assert.Equal(RecordType.PageData, rec.Type);
        var bytes = rec.ToArray(12, 3, true);
        Assert.Equal((uint)(8 + 16 + 4096), Record.PeekBodyLength(bytes, true));
        Assert.Equal(0xF000000000000007UL, pd.Pfns[0].Raw);
        Assert.Equal(9UL, pd.Pfns[1].Pfn);
        Assert.Equal(PageType.L1tab, pd.Pfns[1].Type);
    }
}

public class SpanWriterTests
{
    [Fact]
    public void Writing_into_a_span_matches_the_buffer_writer_and_refuses_a_short_span()
    {
        var rec = new FormatGen.Xen.Libxc.Record { Body = new TscInfo { Khz = 1000, Nsec = 5 } };
        var expected = rec.ToArray(12, 3, true);
        var span = new byte[64];
        Assert.Equal(expected.Length, rec.Write(span, 12, 3, true));
        Assert.Equal(expected, span.AsSpan(0, expected.Length).ToArray());
        Assert.Throws<ArgumentException>(() => { rec.Write(new byte[8], 12, 3, true); });
    }
}
