using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// Every kind of input gives the same records, violations and errors, and
/// none copies what it need not: memory is read in place, a file is mapped in
/// windows, a seekable stream is never read to skip, a PipeReader's segments
/// are read where they lie.
/// </summary>
public class SourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fg-source-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Image(int pagesPerRecord, long memory, GuestKind guest = GuestKind.Pv, bool bigEndian = false)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = guest, MemoryBytes = memory, PagesPerRecord = pagesPerRecord, BigEndian = bigEndian });
        return ms.ToArray();
    }

    /// <summary>One line per record and violation, and the error that stopped the reading.</summary>
    private static string Read(LibxcReader r, bool build)
    {
        var sb = new StringBuilder();
        try
        {
            r.ReadHeaders();
            Note(sb, r.Violations);
            while (r.MoveNext(build))
            {
                sb.Append(r.Index).Append(' ').Append(r.Offset).Append(' ').Append(r.Type).Append(' ').Append(r.Length);
                if (build) sb.Append(' ').Append(RecordSummary.Of(r.Current!));
                sb.Append('\n');
                Note(sb, r.Violations);
            }
            sb.Append("trailing ").Append(r.HasTrailingData()).Append('\n');
        }
        catch (FgException e)
        {
            sb.Append("error ").Append(e.Format()).Append('\n');
        }
        return sb.ToString();
    }

    private static async Task<string> ReadAsync(LibxcReader r)
    {
        var sb = new StringBuilder();
        try
        {
            await r.ReadHeadersAsync();
            Note(sb, r.Violations);
            await foreach (var record in r.ReadAllAsync())
            {
                sb.Append(r.Index).Append(' ').Append(r.Offset).Append(' ').Append(r.Type).Append(' ').Append(r.Length)
                    .Append(' ').Append(RecordSummary.Of(record)).Append('\n');
                Note(sb, r.Violations);
            }
            sb.Append("trailing ").Append(r.HasTrailingData()).Append('\n');
        }
        catch (FgException e)
        {
            sb.Append("error ").Append(e.Format()).Append('\n');
        }
        return sb.ToString();
    }

    private static void Note(StringBuilder sb, IReadOnlyList<FgViolation> violations)
    {
        foreach (var v in violations) sb.Append("  ").Append(v).Append('\n');
    }

    private string File(byte[] image, string name)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, image);
        return path;
    }

    private static PipeReader SmallSegments(byte[] image) => PipeReader.Create(Streams.Chunked(image, 1000), new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 512));

    // Images that exercise the sources: one-page and full batches, a broken rule mid-stream, a cut.
    public static TheoryData<string> Cases => new() { "one-page", "batches", "big-endian-hvm", "broken", "cut", "trailing" };

    private static byte[] Case(string name)
    {
        switch (name)
        {
            case "one-page": return Image(1, 1 << 20);
            case "batches": return Image(1024, 6 << 20);
            case "big-endian-hvm": return Image(3, 1 << 20, GuestKind.Hvm, bigEndian: true);
            case "broken":
                var broken = Image(16, 1 << 20);
                var at = Streams.RecordOffsets(broken);
                Streams.U4(broken, (int)at[at.Count / 2], 0x7777); // an unknown mandatory record type
                return broken;
            case "cut":
                var whole = Image(64, 2 << 20);
                return whole.AsSpan(0, whole.Length - 70_000).ToArray();
            default:
                return [.. Image(2, 64 << 10), 1, 2, 3];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_source_reads_the_same(string name)
    {
        var image = Case(name);
        var path = File(image, name + ".img");
        foreach (bool build in new[] { true, false })
        {
            // Sources that hold each record whole, and those where a check skips octets ahead (a pipe, a
            // seekable stream) and so learns of a cut record only where the input ends: only the message
            // of that error differs between them.
            var expected = Read(new LibxcReader(image), build);
            var skipping = Read(new LibxcReader(Streams.Trickle(image, 5)), build);
            if (build || name != "cut") Assert.Equal(expected, skipping);
            else Assert.Equal(expected.Split("error")[0], skipping.Split("error")[0]);
            void Same(string source, string actual, string? than = null)
            {
                Assert.True(actual == (than ?? expected), source + (build ? " (build)" : " (check)") + " reads otherwise than memory:\n" + actual);
            }
            Assert.Contains(name is "broken" or "cut" ? "error" : "trailing", expected);
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read))
            using (var mapped = new LibxcReader(fs))
            {
                Same("file", Read(mapped, build));
                Assert.True(mapped.IsMapped);
            }
            Same("MemoryStream", Read(new LibxcReader(new MemoryStream(image)), build));
            Same("seekable stream", Read(new LibxcReader(new Seekable(image)), build), skipping);
            Same("PipeReader", Read(new LibxcReader(SmallSegments(image)), build));
            if (build)
            {
                Same("PipeReader async", await ReadAsync(new LibxcReader(SmallSegments(image))));
                Same("stream async", await ReadAsync(new LibxcReader(Streams.Chunked(image, 3000))));
            }
        }
    }

    [Fact]
    public void Memory_is_read_in_place()
    {
        var image = Image(4, 256 << 10);
        var framed = new byte[image.Length + 100];
        image.CopyTo(framed, 100);
        var sources = new (string Name, Func<LibxcReader> Open, byte[] Array)[]
        {
            ("byte[]", () => new LibxcReader(image), image),
            ("ReadOnlyMemory", () => new LibxcReader(framed.AsMemory(100)), framed),
            ("MemoryStream over an array", () => new LibxcReader(new MemoryStream(image)), image),
            ("MemoryStream over part of an array", () => new LibxcReader(new MemoryStream(framed, 100, image.Length)), framed),
            ("MemoryStream at a position", () => { var ms = new MemoryStream(framed); ms.Position = 100; return new LibxcReader(ms); }, framed),
        };
        foreach (var (name, open, array) in sources)
        {
            using var r = open();
            int pages = 0;
            while (r.MoveNext())
            {
                if (r.Current!.Body is not PageData pd || pd.Data.IsEmpty) continue;
                Assert.True(MemoryMarshal.TryGetArray(pd.Data, out var segment), name);
                Assert.Same(array, segment.Array);
                Assert.True(pd.Data.Span.SequenceEqual(array.AsSpan(segment.Offset, segment.Count)), name);
                pages++;
            }
            Assert.True(pages > 0, name);
        }
    }

    [Fact]
    public void A_MemoryStream_is_left_after_what_was_read()
    {
        var image = Image(4, 256 << 10);
        var ms = new MemoryStream([.. image, 9, 9]);
        using (var r = new LibxcReader(ms))
            while (r.MoveNext()) { }
        Assert.Equal(image.Length, ms.Position);
        Assert.Equal(9, ms.ReadByte());
    }

    private sealed class DerivedMemoryStream(byte[] octets) : MemoryStream(octets, 0, octets.Length, writable: false, publiclyVisible: true)
    {
        public int PositionSets;
        public override long Position { get => base.Position; set { PositionSets++; base.Position = value; } }
    }

    [Fact]
    public void A_MemoryStream_follows_the_reader_record_by_record()
    {
        var image = Image(1, 256 << 10);
        var framed = new byte[image.Length + 70];
        image.CopyTo(framed, 50);
        // Over part of an array (an origin), from a position, and a derived type (through its property).
        var plain = new MemoryStream(framed, 50, image.Length + 20, writable: false);
        var derived = new DerivedMemoryStream(framed) { Position = 50 };
        foreach (var (ms, start) in new[] { (plain, 0L), (derived, 50L) })
        {
            using var r = new LibxcReader(ms);
            r.ReadHeaders();
            Assert.Equal(start + r.Position, ms.Position);
            int records = 0;
            while (r.MoveNext(build: false))
            {
                Assert.Equal(start + r.Offset + r.Length, ms.Position);
                records++;
            }
            Assert.True(records > 60);
            Assert.Equal(start + image.Length, ms.Position);
        }
        Assert.True(derived.PositionSets > 60);
    }

    [Fact]
    public void A_peeker_given_too_few_octets_reports_what_a_reader_does()
    {
        foreach (int length in new[] { 0, 2, 5, 7 })
        {
            var data = new byte[length];
            var peeked = Assert.Throws<FgException>(() => FormatGen.Xen.Libxc.Record.PeekBodyLength(data, true));
            FgException read;
            if (length >= 4) read = Assert.Throws<FgException>(() => { var r = new FgReader(data, true); r.Skip(4, "body_length"); r.U4("body_length"); });
            else read = Assert.Throws<FgException>(() => { var r = new FgReader(data, true); r.Skip(4, "body_length"); });
            Assert.Equal((read.Rule, read.FieldPath, read.Offset, read.Detail), (peeked.Rule, peeked.FieldPath, peeked.Offset, peeked.Detail));
            Assert.Equal("body_length", peeked.FieldPath);
        }
        var type = Assert.Throws<FgException>(() => FormatGen.Xen.Libxc.Record.PeekType(new byte[3], false));
        Assert.Equal(("truncated", "type", 0L), (type.Rule, type.FieldPath, type.Offset));
    }

    [Fact]
    public void A_stream_that_can_seek_is_not_read_to_skip()
    {
        var image = Image(1024, 16 << 20);
        var input = new Seekable(image);
        using (var r = new LibxcReader(input))
            while (r.MoveNext(build: false)) { }
        Assert.True(input.OctetsRead < image.Length / 8, $"{input.OctetsRead} of {image.Length} octets read");
        Assert.Equal(image.Length, input.Position);
    }

    [Fact]
    public void A_file_larger_than_its_windows_is_read_whole_and_its_end_named_exactly()
    {
        // Windows are 8 MiB; 40 MiB of one-page records cross several, with records across their edges.
        var image = Image(1, 40 << 20);
        Assert.True(image.Length > 4 * FgSourceWindow);
        var path = File(image, "big.img");
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read))
        using (var r = new LibxcReader(fs))
        {
            long records = 0;
            while (r.MoveNext(build: false))
            {
                Assert.Empty(r.Violations);
                Assert.Equal(r.Length, r.CurrentBytes.Length);
                records++;
            }
            Assert.Equal(Streams.RecordOffsets(image).Count, records);
        }
        // Cut inside a page of the last PAGE_DATA: the error names the field, as from memory.
        var offsets = Streams.RecordOffsets(image);
        var cut = image.AsSpan(0, (int)offsets[^3] + 40).ToArray();
        var expected = Read(new LibxcReader(cut), build: false);
        System.IO.File.WriteAllBytes(path, cut);
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read))
            Assert.Equal(expected, Read(new LibxcReader(fs), build: false));
        Assert.Contains("truncated", expected);
    }

    private const int FgSourceWindow = 8 << 20;

    [Fact]
    public void A_large_xl_save_file_dumps_whole()
    {
        // The xl header's model is kept to the end (dump --json writes it last): it must not point into
        // a window of the file released long before.
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 40 << 20, Wrap = SampleWrap.Xl });
        var path = File(ms.ToArray(), "big.xl");
        foreach (bool json in new[] { true, false })
        {
            var output = new MemoryStream();
            Assert.Equal(0, FormatGen.Cli.DumpCommand.Run(path, false, json, 128 << 20, output));
            var text = Encoding.UTF8.GetString(output.ToArray());
            Assert.Contains(json ? "\"bigEndian\":false,\"mandatoryFlags\"" : "little-endian header", text);
        }
    }

    [Fact]
    public void Elements_larger_than_a_window_stay_valid_until_the_read_after_next()
    {
        const int Big = 40 << 20;
        var data = new byte[16 + Big + Big + 32];
        for (int i = 0; i < data.Length; i += 4096) data[i] = (byte)(i / 4096);
        var path = File(data, "elements.bin");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read);
        using var source = new FgSource(fs);
        Assert.True(source.IsMapped);
        ReadOnlyMemory<byte> Next(int n) => source.Read((ref FgReader r) => r.ReadMemory(n, "x"), false, int.MaxValue, out _);
        var first = Next(16);
        var second = Next(Big);
        var third = Next(Big);
        // Valid until the read after next: the second element after the third read, the third after a fourth.
        Assert.Equal(data[16 + 4080], second.Span[4080]);
        Assert.Equal(data[16 + Big + 8176], third.Span[8176]);
        Next(16);
        Assert.Equal(data[16 + Big + 8176], third.Span[8176]);
        Next(16);
        // Older octets are released: using them is a clear error, not a crash.
        Assert.Throws<ObjectDisposedException>(() => first.Span[0]);
    }

    [Fact]
    public void A_file_that_shrinks_while_mapped_is_a_truncation_not_a_crash()
    {
        var path = File(new byte[64 << 20], "shrinks.bin");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var source = new FgSource(fs);
        Assert.True(source.IsMapped);
        Assert.Equal(16, source.Peek(16).Length);
        using (var cut = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) cut.SetLength(4096);
        source.Skip(20 << 20, "x");
        var e = Assert.Throws<FgException>(() => source.Peek(16).Length);
        Assert.Equal("truncated", e.Rule);
        Assert.Contains("shrank", e.Message);
    }

    [Fact]
    public async Task A_PipeReader_goes_on_after_the_last_octet_the_reader_consumed()
    {
        var image = Image(3, 256 << 10);
        var trailing = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // written whole before it is read
        var all = image.Concat(trailing).ToArray();
        for (int at = 0; at < all.Length; at += 5000)
            await pipe.Writer.WriteAsync(all.AsMemory(at, Math.Min(5000, all.Length - at)));
        await pipe.Writer.CompleteAsync();
        using (var r = new LibxcReader(pipe.Reader))
            while (await r.MoveNextAsync()) { }
        var rest = new List<byte>();
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            rest.AddRange(System.Buffers.BuffersExtensions.ToArray(result.Buffer));
            pipe.Reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        Assert.Equal(trailing, rest);
    }

    [Theory]
    [InlineData(10, 20)]
    [InlineData(10, 11)]
    public void A_skip_past_the_end_reads_alike_from_every_source(int length, int skip)
    {
        var data = new byte[length];
        string Of(FgSource source)
        {
            using (source)
            {
                var e = Assert.Throws<FgException>(() => source.Skip(skip, "x"));
                return e.Format() + " at " + source.Position;
            }
        }
        var expected = Of(new FgSource(Streams.Chunked(data, 3)));
        Assert.Equal(expected, Of(new FgSource(data)));
        Assert.Equal(expected, Of(new FgSource(new MemoryStream(data))));
        Assert.Equal(expected, Of(new FgSource(new Seekable(data))));
        Assert.Equal(expected, Of(new FgSource(PipeReader.Create(new MemoryStream(data)))));
    }

    [Fact]
    public void Layers_sharing_a_file_larger_than_its_windows_read_as_from_a_pipe()
    {
        // An xl save file of a checkpointed stream: the libxl and libxc readers take turns on one
        // source while its window moves under them, records crossing the windows' edges.
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Pv, MemoryBytes = 24 << 20, PagesPerRecord = 3, Wrap = SampleWrap.Xl, Checkpoints = 3 });
        var image = ms.ToArray();
        Assert.True(image.Length > 3 * FgSourceWindow);
        string Items(XenReader r, bool build)
        {
            var sb = new StringBuilder();
            using (r)
                while (r.MoveNext(build))
                {
                    sb.Append(r.Layer).Append(' ').Append(r.Round).Append(' ').Append(r.Offset).Append(' ').Append(r.Name).Append(' ').Append(r.Length);
                    if (r.Kind == XenItemKind.Record) sb.Append(' ').Append(Convert.ToHexString(r.CurrentBytes[..Math.Min(24, r.CurrentBytes.Length)]));
                    foreach (var v in r.Violations) sb.Append("\n  ").Append(v);
                    sb.Append('\n');
                }
            return sb.ToString();
        }
        var path = File(image, "xl.img");
        foreach (bool build in new[] { true, false })
        {
            var expected = Items(new XenReader(Streams.Chunked(image, 65536)), build);
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read);
            var reader = new XenReader(fs);
            Assert.True(reader.IsMapped);
            Assert.Equal(expected, Items(reader, build));
        }
    }

    [Fact]
    public void Containers_and_legacy_images_read_from_memory_and_pipes()
    {
        var xl = new MemoryStream();
        LibxcSample.Write(xl, new SampleOptions { Guest = GuestKind.Hvm, MemoryBytes = 1 << 20, Wrap = SampleWrap.Xl, Checkpoints = 2 });
        var image = xl.ToArray();
        string Items(XenReader r)
        {
            var sb = new StringBuilder();
            using (r)
                while (r.MoveNext()) sb.Append(r.Layer).Append(' ').Append(r.Offset).Append(' ').Append(r.Name).Append(' ').Append(r.Violations.Count).Append('\n');
            return sb.ToString();
        }
        var expected = Items(new XenReader(Streams.Trickle(image, 9)));
        Assert.Contains("Libxc", expected);
        Assert.Equal(expected, Items(new XenReader(image)));
        Assert.Equal(expected, Items(new XenReader(SmallSegments(image))));

        var (_, domain, bits, _, _) = LegacyConverterTests.VectorCases().First(c => c.Domain.Pv);
        var legacy = LegacyImage.Render(domain, bits);
        var fromStream = new MemoryStream();
        LegacyConverter.Convert(Streams.Trickle(legacy, 4), fromStream);
        var fromMemory = new MemoryStream();
        LegacyConverter.Convert(legacy, fromMemory);
        var fromPipe = new MemoryStream();
        LegacyConverter.Convert(SmallSegments(legacy), fromPipe);
        Assert.Equal(fromStream.ToArray(), fromMemory.ToArray());
        Assert.Equal(fromStream.ToArray(), fromPipe.ToArray());
    }

    [Fact]
    public async Task A_pipe_that_is_written_while_read_gives_every_record()
    {
        var image = Image(3, 512 << 10);
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512, pauseWriterThreshold: 8192, resumeWriterThreshold: 4096));
        var writer = Task.Run(async () =>
        {
            var random = new Random(4);
            for (int at = 0; at < image.Length;)
            {
                int n = Math.Min(image.Length - at, 1 + random.Next(5000));
                await pipe.Writer.WriteAsync(image.AsMemory(at, n));
                at += n;
            }
            await pipe.Writer.CompleteAsync();
        });
        using var r = new LibxcReader(pipe.Reader);
        // A reader that held on to what the writer waits for would never finish: fail, not hang.
        var read = await ReadAsync(r).WaitAsync(TimeSpan.FromSeconds(120));
        await writer;
        Assert.Equal(Read(new LibxcReader(image), build: true), read);
    }

    [Fact]
    public void A_pipe_read_through_a_FileStream_gets_a_larger_buffer()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.In);
        using var client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.Out, server.ClientSafePipeHandle);
        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(server.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        using var input = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        int before = fcntl((int)handle.DangerousGetHandle(), 1032, 0);
        // What an unprivileged process may ask for: pipe-max-size (1 MiB unless the machine says less).
        int most = int.Parse(System.IO.File.ReadAllText("/proc/sys/fs/pipe-max-size").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using (new FgSource(input))
            Assert.Equal(Math.Max(before, Math.Min(1 << 20, most)), fcntl((int)handle.DangerousGetHandle(), 1032, 0));
    }

    [DllImport("libc")]
    private static extern int fcntl(int fd, int command, int argument);

    [Fact]
    public void Any_image_damaged_anyhow_reads_alike_from_memory_and_from_any_cut_of_a_PipeReader()
    {
        var gen =
            from guest in Gen.Elements(GuestKind.Pv, GuestKind.Hvm)
            from pages in Gen.Choose(2, 300)
            from batch in Gen.Elements(1, 3, 64)
            from wrap in Gen.Elements(SampleWrap.None, SampleWrap.Libxl, SampleWrap.Xl)
            from checkpoints in Gen.Choose(0, 2)
            from damage in Gen.Elements("none", "flip", "cut")
            from at in Gen.Choose(0, int.MaxValue)
            from bits in Gen.Choose(1, 255)
            from segment in Gen.Choose(64, 8192)
            from least in Gen.Choose(1, 64)
            from seed in Gen.Choose(0, 1000)
            select (new SampleOptions { Guest = guest, MemoryBytes = pages * 4096L, PagesPerRecord = batch, Vcpus = 1, Wrap = wrap, Checkpoints = wrap == SampleWrap.None ? 0 : checkpoints },
                damage, at, (byte)bits, segment, least, seed);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var (o, damage, at, bits, segment, least, seed) = c;
            var ms = new MemoryStream();
            LibxcSample.Write(ms, o);
            var image = ms.ToArray();
            if (damage == "flip") image[at % image.Length] ^= bits;
            if (damage == "cut") image = image.AsSpan(0, at % image.Length).ToArray();
            var expected = Items(() => new XenReader(image));
            PipeReader Cut() => PipeReader.Create(new Streams.Pipe(image, 1 + seed * 4, seed), new StreamPipeReaderOptions(bufferSize: segment, minimumReadSize: Math.Min(least, segment)));
            Assert.Equal(expected, Items(() => new XenReader(Cut())));
            // Async reading, every read of the pipe awaited: the same items, violations and error.
            Assert.Equal(expected, ItemsAsync(new AwaitedOnly(Cut())).GetAwaiter().GetResult());
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>Each item a reader gives (layer, offset, name, length), its violations, and the error that ends it.</summary>
    internal static string Items(Func<XenReader> open)
    {
        var sb = new StringBuilder();
        try
        {
            using var r = open();
            while (r.MoveNext())
            {
                sb.Append(r.Layer).Append(' ').Append(r.Offset).Append(' ').Append(r.Name).Append(' ').Append(r.Length).Append('\n');
                foreach (var v in r.Violations) sb.Append("  ").Append(v).Append('\n');
            }
        }
        catch (FgException e) { sb.Append("error ").Append(e.Format()); }
        return sb.ToString();
    }

    /// <summary><see cref="Items"/>, read asynchronously from a pipe.</summary>
    internal static async Task<string> ItemsAsync(PipeReader pipe, CancellationToken cancellationToken = default)
    {
        var sb = new StringBuilder();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            using var r = await XenReader.OpenAsync(pipe, cancellationToken: cts.Token);
            await foreach (var item in r.ReadAllAsync(cancellationToken: cts.Token))
            {
                sb.Append(item.Layer).Append(' ').Append(item.Offset).Append(' ').Append(item.Name).Append(' ').Append(item.Length).Append('\n');
                foreach (var v in item.Violations) sb.Append("  ").Append(v).Append('\n');
            }
        }
        catch (FgException e) { sb.Append("error ").Append(e.Format()); }
        return sb.ToString();
    }

    /// <summary>
    /// A PipeReader that refuses a read not given a token that can be canceled: the async
    /// reading passes its caller's, a blocking read (sync over async) none.
    /// </summary>
    internal sealed class AwaitedOnly(PipeReader inner) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
            => cancellationToken.CanBeCanceled ? inner.ReadAsync(cancellationToken) : throw new InvalidOperationException("the pipe was read without the caller's token: a blocking read");
        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);
        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);
        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);
        public override void CancelPendingRead() => inner.CancelPendingRead();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }

    [Fact]
    public async Task A_container_read_async_waits_for_the_writer_and_survives_a_cancel()
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Hvm, MemoryBytes = 1 << 20, PagesPerRecord = 16, Wrap = SampleWrap.Xl, Checkpoints = 2 });
        var image = ms.ToArray();
        var expected = await ItemsAsync(new AwaitedOnly(PipeReader.Create(new MemoryStream(image))));
        Assert.Contains("Libxc", expected);
        Assert.DoesNotContain("error", expected);

        // The writer sends the first part and stops: the reader waits for it without a thread,
        // its wait is canceled, and after the rest is written it goes on from the same item.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0)); // the writer does not wait for the reader
        int split = image.Length / 2;
        await pipe.Writer.WriteAsync(image.AsMemory(0, split));
        var sb = new StringBuilder();
        using var opening = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var r = await XenReader.OpenAsync(new AwaitedOnly(pipe.Reader), cancellationToken: opening.Token);
        void Note(XenReader item)
        {
            sb.Append(item.Layer).Append(' ').Append(item.Offset).Append(' ').Append(item.Name).Append(' ').Append(item.Length).Append('\n');
            foreach (var v in item.Violations) sb.Append("  ").Append(v).Append('\n');
        }
        using (var cts = new CancellationTokenSource())
        {
            var reading = Task.Run(async () =>
            {
                while (await r.MoveNextAsync(cancellationToken: cts.Token)) Note(r);
            });
            await Task.Delay(200);
            Assert.False(reading.IsCompleted);
            long stoppedAt = r.Position;
            Assert.True(stoppedAt > 0 && stoppedAt <= split);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        }
        await pipe.Writer.WriteAsync(image.AsMemory(split));
        await pipe.Writer.CompleteAsync();
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while (await r.MoveNextAsync(cancellationToken: cts.Token)) Note(r);
        Assert.Equal(expected, sb.ToString());
        Assert.True(r.Ended);
    }

    /// <summary>A stream that can seek and is not a file or a MemoryStream; counts the octets read from it.</summary>
    private sealed class Seekable(byte[] data) : Stream
    {
        private long _pos;
        public long OctetsRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Max(0, Math.Min(count, data.Length - _pos));
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            OctetsRead += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _pos; set => _pos = value >= 0 ? value : throw new IOException("negative position"); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin s) => Position = s switch { SeekOrigin.Begin => o, SeekOrigin.Current => _pos + o, _ => data.Length + o };
        public override void SetLength(long v) => throw new NotSupportedException();
        public override void Write(byte[] b, int o, int c) => throw new NotSupportedException();
    }
}
