using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// The one reader of every format (XenReader): detection from files and from
/// pipes that return short reads, the layers in wire order, checkpoint
/// rounds, and each container malformation as one error with its place.
/// Inputs are built octet by octet (Containers) or by the sample writer.
/// </summary>
public class XenReaderTests
{
    [Fact]
    public void TryRead_says_what_it_took_and_never_throws()
    {
        var image = Streams.Sample(GuestKind.Pv, 3);
        Assert.True(FormatGen.Xen.Libxc.ImageHeader.TryRead(image, out var header, out int used));
        Assert.Equal((3u, 24), (header.Version, used));
        Assert.Equal(24, FormatGen.Xen.Libxc.ImageHeader.Read(image, out int consumed).Version == 3 ? consumed : -1);
        Assert.False(FormatGen.Xen.Libxc.ImageHeader.TryRead(image.AsMemory(0, 23), out _, out used));
        Assert.Equal(0, used);
    }

    [Fact]
    public void Enum_names_are_the_grammars_own_from_a_generated_table()
    {
        Assert.Equal("x86_pv_p2m_frames", FormatGen.Xen.Libxc.RecordType.X86PvP2mFrames.KsyName());
        Assert.Null(((FormatGen.Xen.Libxc.RecordType)0x7777).KsyName());
        Assert.Equal("X86_PV_P2M_FRAMES", RecordNames.Of(FormatGen.Xen.Libxc.RecordType.X86PvP2mFrames));
        Assert.Equal("OPTIONAL_0x80000042", RecordNames.Of((FormatGen.Xen.Libxc.RecordType)0x80000042u));
        Assert.Equal("LIBXC_CONTEXT", RecordNames.Of(FormatGen.Xen.Libxl.RecordType.LibxcContext));
        Assert.Equal("hvm_nr_ioreq_server_pages", FormatGen.Xen.Legacy.ChunkTypeNames.KsyName(FormatGen.Xen.Legacy.ChunkType.HvmNrIoreqServerPages));
    }

    private sealed record Item(XenItemKind Kind, XenLayer Layer, int Depth, long Index, long Offset, string Name, int Round, List<FgViolation> Violations);

    private static (List<Item> Items, List<FgViolation> End, XenReader State, FgException? Error) ReadAll(Stream input, ImageKind? format = null)
    {
        var items = new List<Item>();
        var reader = new XenReader(input, format);
        try
        {
            while (reader.MoveNext(build: true))
                items.Add(new Item(reader.Kind, reader.Layer, reader.Depth, reader.Index, reader.Offset, reader.Name, reader.Round, reader.Violations.ToList()));
            return (items, reader.Violations.ToList(), reader, null);
        }
        catch (FgException e)
        {
            return (items, new List<FgViolation>(), reader, e);
        }
    }

    private static (List<Item> Items, List<FgViolation> End, XenReader State, FgException? Error) ReadAll(byte[] data, ImageKind? format = null)
        => ReadAll(new MemoryStream(data), format);

    private static List<FgViolation> Problems((List<Item> Items, List<FgViolation> End, XenReader State, FgException? Error) r)
        => r.Items.SelectMany(i => i.Violations).Concat(r.End).Concat(r.Error is null ? Array.Empty<FgViolation>() : new[] { r.Error.ToViolation() }).ToList();

    private static byte[] Sample(GuestKind guest, SampleWrap wrap, int checkpoints = 0)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = guest, MemoryBytes = 1 << 20, Wrap = wrap, Checkpoints = checkpoints });
        return ms.ToArray();
    }

    [Theory]
    [InlineData(SampleWrap.None, ImageKind.Libxc)]
    [InlineData(SampleWrap.Libxl, ImageKind.Libxl)]
    [InlineData(SampleWrap.Xl, ImageKind.XlSaveFile)]
    public void Every_format_is_detected_and_read_from_a_file_and_from_a_pipe_of_short_reads(SampleWrap wrap, ImageKind kind)
    {
        var image = Sample(GuestKind.Hvm, wrap);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, image);
            using var file = File.OpenRead(path);
            var fromFile = ReadAll(file);
            Assert.True(fromFile.State.IsMapped);
            var fromPipe = ReadAll(Streams.Trickle(image, 3));
            Assert.False(fromPipe.State.IsMapped);
            foreach (var r in new[] { fromFile, fromPipe })
            {
                Assert.Null(r.Error);
                Assert.Empty(Problems(r));
                Assert.Equal(kind, r.State.Format);
                Assert.True(r.State.Ended);
                Assert.Equal(image.Length, r.State.Position);
            }
            Assert.Equal(fromFile.Items.Select(i => (i.Kind, i.Layer, i.Depth, i.Index, i.Offset, i.Name)), fromPipe.Items.Select(i => (i.Kind, i.Layer, i.Depth, i.Index, i.Offset, i.Name)));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void An_xl_save_file_yields_every_layer_in_wire_order_with_its_nesting()
    {
        var libxc = Streams.Sample(GuestKind.Hvm, 3);
        var image = Containers.Xl(Containers.Libxl(libxc, emulatorRecords: new[]
        {
            Containers.XenstoreData(2, 0, new[] { "physmap/1/name", "vga.vram" }),
            Containers.EmulatorContext(2, 0, new byte[] { 1, 2, 3 }),
        }), "name = \"g\"\n", json: false);
        var r = ReadAll(image);
        Assert.Null(r.Error);
        Assert.Empty(Problems(r));
        var shape = r.Items.Select(i => (i.Kind, i.Layer, i.Depth, i.Name)).ToList();
        Assert.Equal((XenItemKind.XlHeader, XenLayer.Xl, 0, "XL_HEADER"), shape[0]);
        Assert.Equal((XenItemKind.LibxlHeader, XenLayer.Libxl, 1, "LIBXL_HEADER"), shape[1]);
        Assert.Equal((XenItemKind.Record, XenLayer.Libxl, 1, "LIBXC_CONTEXT"), shape[2]);
        Assert.Equal((XenItemKind.LibxcHeader, XenLayer.Libxc, 2, "LIBXC_HEADER"), shape[3]);
        Assert.Equal((XenItemKind.Record, XenLayer.Libxc, 2, "END"), shape[^4]);
        Assert.Equal(new[] { "EMULATOR_XENSTORE_DATA", "EMULATOR_CONTEXT", "END" }, shape.TakeLast(3).Select(s => s.Name));
        Assert.All(shape.TakeLast(3), s => Assert.Equal((XenLayer.Libxl, 1), (s.Layer, s.Depth)));
        // Offsets are absolute in the file: the libxc headers follow LIBXC_CONTEXT's 8 octets.
        Assert.Equal(r.Items[2].Offset + 8, r.Items[3].Offset);
        Assert.Equal("name = \"g\"\n", r.State.XlHeader!.Header.OptionalData.Config);
        // The libxc layer is the libxc stream, octet for octet: from its headers to the end of its 8-octet END.
        var inner = r.Items.Where(i => i.Layer == XenLayer.Libxc).ToList();
        Assert.Equal(libxc.Length, inner[^1].Offset + 8 - inner[0].Offset);
        Assert.False(r.State.Checkpointed);
    }

    [Fact]
    public void A_checkpointed_stream_shows_its_rounds_and_a_break_says_what_a_receiver_keeps()
    {
        var image = Sample(GuestKind.Hvm, SampleWrap.Libxl, checkpoints: 3);
        var r = ReadAll(image);
        Assert.Null(r.Error);
        Assert.Empty(Problems(r));
        Assert.True(r.State.Checkpointed);
        Assert.Equal(3, r.State.CompleteRounds);
        // Each CHECKPOINT_END ends a round; the libxc records after it belong to the next.
        var ends = r.Items.Where(i => i.Name == "CHECKPOINT_END").ToList();
        Assert.Equal(new[] { 2, 3, 4 }, ends.Select(i => i.Round));
        var checkpoints = r.Items.Where(i => i.Name == "CHECKPOINT").ToList();
        Assert.Equal(new[] { 1, 2, 3 }, checkpoints.Select(i => i.Round));

        // The wire breaks right after checkpoint 2: a warning, and the receiver has checkpoint 2.
        var boundary = ends[1].Offset + 8;
        var cut = ReadAll(image[..(int)boundary]);
        Assert.Null(cut.Error);
        Assert.True(cut.State.EndedOnCheckpoint);
        Assert.Equal(2, cut.State.CompleteRounds);
        var warning = Assert.Single(Problems(cut));
        Assert.Equal(("checkpoint-stream-broken-off", FgSeverity.Warning, boundary), (warning.Rule, warning.Severity, warning.Offset));

        // Broken inside round 3: one error, naming the round and what is complete.
        var mid = ReadAll(image[..(int)(boundary + 100)]);
        Assert.NotNull(mid.Error);
        Assert.Equal("truncated", mid.Error!.Rule);
        Assert.Contains("inside checkpoint 3; checkpoints 1-2 are complete (a receiver fails over to checkpoint 2)", mid.Error.Message);
        Assert.Contains("in the libxc stream that libxl record 0 (LIBXC_CONTEXT) carries", mid.Error.Message);
        Assert.Single(Problems(mid));
    }

    [Fact]
    public void A_colo_stream_reads_its_checkpoint_state_records()
    {
        // Round 1: the plain libxc stream up to CHECKPOINT, CHECKPOINT_END, then CHECKPOINT_STATE (new checkpoint), round 2, END.
        var libxc = Streams.Sample(GuestKind.Pv, 3);
        var records = Streams.RecordOffsets(libxc);
        var endAt = (int)records[^1];
        var checkpoint = Streams.Raw(0x0e, Array.Empty<byte>());
        var state = Containers.Record(5, BitConverter.GetBytes(0u));
        var checkpointEnd = Containers.Record(4, Array.Empty<byte>());
        var wire = new MemoryStream();
        var header = Containers.Libxl(Array.Empty<byte>())[..24]; // header + LIBXC_CONTEXT
        wire.Write(header);
        wire.Write(libxc.AsSpan(0, endAt));
        wire.Write(checkpoint);
        wire.Write(checkpointEnd);
        wire.Write(state);
        wire.Write(checkpoint);
        wire.Write(checkpointEnd);
        wire.Write(state);
        wire.Write(libxc.AsSpan(endAt));
        wire.Write(Containers.Record(0, Array.Empty<byte>()));
        var r = ReadAll(wire.ToArray());
        Assert.Null(r.Error);
        Assert.Empty(Problems(r));
        Assert.True(r.State.Colo);
        Assert.Equal(2, r.State.CompleteRounds);
        Assert.Equal(2, r.Items.Count(i => i.Name == "CHECKPOINT_STATE"));
    }

    public static TheoryData<string, string> Malformations() => new()
    {
        { "libxl ident", "libxl-ident" },
        { "libxl version", "libxl-version" },
        { "libxl reserved option bit", "libxl-options-reserved" },
        { "libxc cut inside LIBXC_CONTEXT", "truncated" },
        { "unterminated xenstore data", "terminator" },
        { "odd xenstore string count", "libxl-xenstore-pairs" },
        { "absolute xenstore key", "libxl-xenstore-key" },
        { "unknown mandatory xl flag", "xl-mandatory-flags" },
        { "emulator record before LIBXC_CONTEXT", "libxl-first-record" },
        { "CHECKPOINT_END outside a checkpoint", "libxl-checkpoint-end-outside" },
        { "emulator record for a PV guest", "libxl-emulator-not-hvm" },
        { "checkpoint cut mid-round", "truncated" },
        { "END inside a checkpoint", "libxl-end-in-checkpoint" },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void Each_container_malformation_is_one_error_with_its_offset(string what, string rule)
    {
        var hvm = Streams.Sample(GuestKind.Hvm, 3);
        var pv = Streams.Sample(GuestKind.Pv, 3);
        var emulator = Containers.XenstoreData(2, 0, new[] { "k", "v" });
        byte[] image;
        ImageKind? format = null;
        long? offset = null;
        switch (what)
        {
            case "libxl ident":
                image = Containers.Libxl(hvm);
                image[0] = (byte)'l';
                format = ImageKind.Libxl;
                offset = 0;
                break;
            case "libxl version":
                image = Containers.Libxl(hvm);
                image[11] = 3;
                offset = 8;
                break;
            case "libxl reserved option bit":
                image = Containers.Libxl(hvm);
                image[12] = 0x80;
                offset = 12;
                break;
            case "libxc cut inside LIBXC_CONTEXT":
                image = Containers.Libxl(hvm)[..(24 + hvm.Length / 2)];
                break;
            case "unterminated xenstore data":
            {
                var body = new byte[8 + 3];
                BitConverter.GetBytes(2u).CopyTo(body, 0);
                Encoding.ASCII.GetBytes("k\0v").CopyTo(body, 8);
                image = Containers.Libxl(hvm, emulatorRecords: Containers.Record(2, body));
                break;
            }
            case "odd xenstore string count":
                image = Containers.Libxl(hvm, emulatorRecords: Containers.XenstoreData(2, 0, new[] { "k", "v", "orphan" }));
                break;
            case "absolute xenstore key":
                image = Containers.Libxl(hvm, emulatorRecords: Containers.XenstoreData(2, 0, new[] { "k", "v", "/local/domain", "x" }));
                break;
            case "unknown mandatory xl flag":
                image = Containers.Xl(Containers.Libxl(hvm), "c", json: false, extraFlags: 8);
                offset = 36;
                break;
            case "emulator record before LIBXC_CONTEXT":
            {
                var plain = Containers.Libxl(hvm);
                image = plain[..16].Concat(emulator).Concat(plain[16..]).ToArray();
                offset = 16;
                break;
            }
            case "CHECKPOINT_END outside a checkpoint":
                image = Containers.Libxl(hvm, emulatorRecords: Containers.Record(4, Array.Empty<byte>()));
                break;
            case "emulator record for a PV guest":
                image = Containers.Libxl(pv, emulatorRecords: emulator);
                break;
            case "checkpoint cut mid-round":
            {
                var cp = Sample(GuestKind.Pv, SampleWrap.Libxl, checkpoints: 2);
                image = cp[..(cp.Length - 5000)];
                break;
            }
            case "END inside a checkpoint":
            {
                // The libxc stream pauses at CHECKPOINT; libxl sends END before CHECKPOINT_END.
                var offsets = Streams.RecordOffsets(hvm);
                var wire = Containers.Libxl(Array.Empty<byte>())[..24].Concat(hvm[..(int)offsets[^1]]).Concat(Streams.Raw(0x0e, Array.Empty<byte>()))
                    .Concat(Containers.Record(0, Array.Empty<byte>())).ToArray();
                image = wire;
                break;
            }
            default: throw new ArgumentException(what);
        }
        var r = ReadAll(image, format);
        var problems = Problems(r);
        var error = Assert.Single(problems, p => p.Severity == FgSeverity.Error);
        Assert.Equal(rule, error.Rule);
        Assert.True(error.Offset >= 0, what + ": " + error);
        if (offset is not null) Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void What_no_layer_reads_is_named()
    {
        var legacy = ReadAll(new byte[] { 0, 0, 4, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0, (byte)'v', (byte)'c', (byte)'p', (byte)'u' });
        Assert.Equal("legacy-image", legacy.Error!.Rule);
        Assert.Contains("convert-legacy", legacy.Error.Message);
        Assert.Contains("64-bit toolstack", legacy.Error.Message);
        Assert.Equal("not-a-xen-image", ReadAll(new byte[100]).Error!.Rule);
        var inXl = ReadAll(Containers.Xl(new byte[64], "c", json: false, v2: false));
        Assert.Equal(XenItemKind.XlHeader, Assert.Single(inXl.Items).Kind);
        Assert.Equal("legacy-image", inXl.Error!.Rule);
        Assert.Equal(inXl.State.LegacyOffset, inXl.Error.Offset);
        // A forced format reads the input as that format: a libxc stream read as libxl is no libxl stream.
        Assert.Equal("libxl-ident", ReadAll(Streams.Sample(), ImageKind.Libxl).Error!.Rule);
    }

    /// <summary>Emulator records of any content, written by the generated writers, read back as they were.</summary>
    [Fact]
    public void Libxl_and_xl_streams_of_any_content_round_trip()
    {
        var key = Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789/_-@".ToCharArray()).ArrayOf().Where(a => a.Length > 0 && a[0] != '/').Select(a => new string(a));
        var value = Gen.Elements("abc XYZ 0123 {}:\"=".ToCharArray()).ArrayOf().Select(a => new string(a));
        var pairs = Gen.Zip(key, value).ListOf();
        var state = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();
        var config = Gen.Elements("name = \"é\"\n{}[],:0123abc".ToCharArray()).ArrayOf().Select(a => new string(a));
        var cases = Gen.Zip(Gen.Zip(pairs, state), Gen.Zip(config, Gen.Elements(false, true))).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var ((kv, blob), (text, bigEndian)) = c;
            var strings = kv.SelectMany(p => new[] { p.Item1, p.Item2 }).ToList();
            var libxc = Streams.Sample(GuestKind.Hvm, 3, bigEndian);
            var records = new List<FormatGen.Xen.Libxl.Record>
            {
                new() { Type = FormatGen.Xen.Libxl.RecordType.EmulatorXenstoreData, Body = new FormatGen.Xen.Libxl.EmulatorXenstoreData { Emulator = new() { EmulatorId = FormatGen.Xen.Libxl.EmulatorId.QemuUpstream }, Strings = strings } },
                new() { Type = FormatGen.Xen.Libxl.RecordType.EmulatorContext, Body = new FormatGen.Xen.Libxl.EmulatorContext { Emulator = new() { EmulatorId = FormatGen.Xen.Libxl.EmulatorId.QemuTraditional, Index = 1 }, State = blob } },
            };
            var ms = new MemoryStream();
            ms.Write(Containers.XlMagic);
            var xl = new FormatGen.Xen.Xl.Xl
            {
                ByteOrder = bigEndian ? new byte[] { 1, 2, 3, 4 } : new byte[] { 4, 3, 2, 1 },
                Header = new FormatGen.Xen.Xl.Header { MandatoryFlags = 2, OptionalData = new FormatGen.Xen.Xl.OptionalData { ConfigLen = (uint)Encoding.UTF8.GetByteCount(text) + 1, Config = text } },
                Libxl = new FormatGen.Xen.Libxl.Libxl
                {
                    Header = new FormatGen.Xen.Libxl.Header { Options = bigEndian ? 1u : 0u },
                    Body = new FormatGen.Xen.Libxl.StreamBody
                    {
                        Records = new[] { new FormatGen.Xen.Libxl.Record { Type = FormatGen.Xen.Libxl.RecordType.LibxcContext, Body = new FormatGen.Xen.Libxl.EmptyBody(), Libxc = FormatGen.Xen.Libxc.Libxc.Read(libxc) } }
                            .Concat(records).Append(new FormatGen.Xen.Libxl.Record { Type = FormatGen.Xen.Libxl.RecordType.End, Body = new FormatGen.Xen.Libxl.EmptyBody() }).ToList(),
                    },
                },
            };
            var bytes = xl.ToArray();
            var back = FormatGen.Xen.Xl.Xl.Read(bytes);
            var r = ReadAll(bytes);
            var libxlRecords = new List<FormatGen.Xen.Libxl.Record>();
            var reader = new XenReader(new MemoryStream(bytes));
            while (reader.MoveNext())
                if (reader.LibxlRecord is { } rec && rec.Type is FormatGen.Xen.Libxl.RecordType.EmulatorXenstoreData or FormatGen.Xen.Libxl.RecordType.EmulatorContext)
                    libxlRecords.Add(rec with { Slack = default, Body = rec.Body is FormatGen.Xen.Libxl.EmulatorContext e ? e with { State = e.State.ToArray() } : rec.Body });
            Assert.Null(r.Error);
            // Big-endian streams are valid, with Xen's restore's refusal as a warning.
            Assert.True(Problems(r).All(p => bigEndian && p.Rule is "libxl-big-endian" or "image-big-endian"), string.Join("; ", Problems(r)));
            Assert.Equal(text, back.Header.OptionalData.Config);
            Assert.Equal(4, back.Libxl!.Body.Records.Count);
            Assert.Equal(2, libxlRecords.Count);
            Assert.Equal(strings, Assert.IsType<FormatGen.Xen.Libxl.EmulatorXenstoreData>(libxlRecords[0].Body).Strings);
            var ec = Assert.IsType<FormatGen.Xen.Libxl.EmulatorContext>(libxlRecords[1].Body);
            Assert.Equal(blob, ec.State.ToArray());
            Assert.Equal(1u, ec.Emulator.Index);
            Assert.Equal(text, r.State.XlHeader!.Header.OptionalData.Config);
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    /// <summary>
    /// MoveNext with a filter (dump's: every model but PAGE_DATA's) reports
    /// what building every record reports, from a file and from a pipe, a
    /// damaged and a cut input too (the records it does not build are read
    /// whole, not skipped ahead); and a summary written from a record's octets
    /// is the one made from its model.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Building_only_what_a_filter_asks_for_reports_what_building_all_does(bool pipe)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 1 << 20, Wrap = SampleWrap.Xl, Checkpoints = 2, PagesPerRecord = 7 });
        var checkpointed = ms.ToArray();
        var libxc = Streams.Sample(GuestKind.Pv, 3, bigEndian: true, memory: 1 << 20);
        var offsets = Streams.RecordOffsets(libxc);
        var damaged = (byte[])libxc.Clone();
        Streams.U4(damaged, (int)offsets[3], 1, be: true);                               // STATIC_DATA_END as PAGE_DATA: a body too short for one
        Streams.U8(damaged, (int)offsets[6] + 16, 0x6000000000000123, be: true);         // an undefined page type, a pfn beyond the P2M
        foreach (var image in new[] { checkpointed, damaged, damaged.AsSpan(0, (int)offsets[7] + 100).ToArray(), checkpointed.AsSpan(0, checkpointed.Length / 2).ToArray() })
        {
            var all = Read(image, r => r.MoveNext(build: true), r => r.Kind != XenItemKind.Record ? "" : r.Layer == XenLayer.Libxc ? RecordSummary.Of(r.LibxcRecord!) : RecordSummary.Of(r.LibxlRecord!));
            var some = Read(image, r => r.MoveNext(RecordSummary.NeedsModel), r =>
            {
                if (r.Kind != XenItemKind.Record) return "";
                if (r.Layer == XenLayer.Libxc) Assert.Equal(RecordSummary.NeedsModel(r.LibxcType, r.BodyLength), r.LibxcRecord is not null);
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                RecordSummary.Write(r, buffer);
                return Encoding.UTF8.GetString(buffer.WrittenSpan);
            });
            Assert.Equal(all, some);
            Assert.Contains(all, line => line.Contains("PAGE_DATA") && line.Contains("pfns 0x"));
        }

        List<string> Read(byte[] image, Func<XenReader, bool> next, Func<XenReader, string> summary)
        {
            var lines = new List<string>();
            using var reader = new XenReader(pipe ? Streams.Chunked(image, 1000) : new MemoryStream(image));
            try
            {
                while (next(reader))
                {
                    lines.Add($"{reader.Kind} {reader.Layer} {reader.Index} {reader.Offset} {reader.Name} {reader.BodyLength} {Convert.ToHexString(reader.CurrentBytes)} {summary(reader)}");
                    lines.AddRange(reader.Violations.Select(v => v.ToString()));
                }
                lines.AddRange(reader.Violations.Select(v => v.ToString()));
            }
            catch (FgException e)
            {
                lines.Add(e.Format());
            }
            return lines;
        }
    }
}
