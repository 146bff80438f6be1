using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// Valid images of every format, mutated: bits flipped, octets inserted and
/// deleted, the end cut off. Whatever comes out is a valid image or the
/// library's typed error (an <see cref="FgException"/> with a rule and an
/// offset inside the input), the same from memory as from a stream that
/// trickles and from a pipe, read or awaited; the legacy converter writes a stream that verifies or nothing,
/// and never changes its input.
/// </summary>
public sealed class MutationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("formatgen-mutation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Sample(GuestKind guest, long memory, SampleWrap wrap = SampleWrap.None, int checkpoints = 0, uint version = 3, bool bigEndian = false, int pagesPerRecord = 1024)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = guest, MemoryBytes = memory, Wrap = wrap, Checkpoints = checkpoints, Version = version, BigEndian = bigEndian, PagesPerRecord = pagesPerRecord });
        return ms.ToArray();
    }

    private static LegacyDomain Case(string name) => LegacyConverterTests.VectorCases().First(c => c.Name == name).Domain;

    /// <summary>One small valid image of each format and layering.</summary>
    private static readonly (string Name, byte[] Image)[] Images =
    {
        ("libxc v3 PV", Sample(GuestKind.Pv, 64 << 10, pagesPerRecord: 4)),
        ("libxc v2 HVM big-endian", Sample(GuestKind.Hvm, 16 << 10, version: 2, bigEndian: true)),
        ("libxl HVM", Sample(GuestKind.Hvm, 16 << 10, SampleWrap.Libxl)),
        ("xl PV", Sample(GuestKind.Pv, 64 << 10, SampleWrap.Xl)),
        ("xl checkpointed PV", Sample(GuestKind.Pv, 64 << 10, SampleWrap.Xl, checkpoints: 2, pagesPerRecord: 7)),
        ("libxl checkpointed HVM", Sample(GuestKind.Hvm, 16 << 10, SampleWrap.Libxl, checkpoints: 2)),
        ("legacy PV, 64-bit toolstack", LegacyImage.Render(Case("pv64-w64"), 64)),
        ("legacy 32-bit PV, 32-bit toolstack", LegacyImage.Render(Case("pv32-w32"), 32)),
        ("legacy HVM, 32-bit toolstack", LegacyImage.Render(Case("hvm-w32"), 32)),
        ("xl file of a legacy HVM image", LegacyImage.Render(Case("xl-hvm-w64"), 64)),
    };

    private static readonly int[] Legacy = Enumerable.Range(0, Images.Length).Where(i => Images[i].Name.Contains("legacy", StringComparison.Ordinal)).ToArray();

    /// <summary>A valid image with one to three edits: a bit flipped, octets inserted or deleted, the end cut off.</summary>
    private static Gen<(string What, byte[] Data)> Mutant(int[] which) =>
        from i in Gen.Elements(which)
        from n in Gen.Choose(1, 3)
        from edits in Gen.ArrayOf(Edit, n)
        select (Images[i].Name + ": " + string.Join(", ", edits.Select(e => e.What)),
                edits.Aggregate(Images[i].Image, (data, e) => e.Apply(data)));

    private static Gen<(string What, Func<byte[], byte[]> Apply)> Edit
    {
        get
        {
            // Headers are where a mutation matters most: half the edits land in the first 256 octets.
            var at = Gen.Frequency((1, Gen.Choose(0, 255)), (1, Gen.Choose(0, int.MaxValue)));
            var flip = from a in at from bit in Gen.Choose(0, 7)
                       select ($"bit {bit} of octet {a} flipped", (Func<byte[], byte[]>)(d => { if (d.Length == 0) return d; var c = (byte[])d.Clone(); c[a % c.Length] ^= (byte)(1 << bit); return c; }));
            var insert = from a in at from k in Gen.Choose(1, 16) from octets in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), k)
                         select ($"{octets.Length} octet(s) inserted at {a}", (Func<byte[], byte[]>)(d => { int p = a % (d.Length + 1); return [.. d.AsSpan(0, p), .. octets, .. d.AsSpan(p)]; }));
            var delete = from a in at from count in Gen.Choose(1, 64)
                         select ($"{count} octet(s) deleted at {a}", (Func<byte[], byte[]>)(d => { if (d.Length == 0) return d; int p = a % d.Length, k = Math.Min(count, d.Length - p); return [.. d.AsSpan(0, p), .. d.AsSpan(p + k)]; }));
            var cut = from a in Gen.Choose(0, int.MaxValue)
                      select ($"cut at {a}", (Func<byte[], byte[]>)(d => d.AsSpan(0, a % (d.Length + 1)).ToArray()));
            return Gen.Frequency((3, flip), (2, insert), (2, delete), (1, cut));
        }
    }

    /// <summary>What reading an input came to: its error's rule and offset, or none, and every violation said.</summary>
    private sealed record Outcome(string? Rule, long Offset, string Violations, int Errors, int Items);

    private static Outcome Read(XenReader r)
    {
        var said = new List<string>();
        int items = 0, errors = 0;
        void Say(IReadOnlyList<FgViolation> violations)
        {
            said.AddRange(violations.Select(v => v.ToString()));
            errors += violations.Count(v => v.Severity == FgSeverity.Error);
        }
        var summary = new ArrayBufferWriter<byte>();
        try
        {
            while (r.MoveNext(build: true))
            {
                items++;
                Say(r.Violations);
                if (r.Kind == XenItemKind.Record)
                {
                    summary.ResetWrittenCount();
                    RecordSummary.Write(r, summary);
                }
            }
            Say(r.Violations);
            return new Outcome(null, -1, string.Join("\n", said), errors, items);
        }
        catch (FgException e)
        {
            return new Outcome(e.Rule, e.Offset, string.Join("\n", said), errors, items);
        }
    }

    [Fact]
    public void Every_format_mutated_reads_as_a_valid_image_or_one_typed_error_the_same_from_memory_and_a_stream()
    {
        Prop.ForAll(Mutant(Enumerable.Range(0, Images.Length).ToArray()).ToArbitrary(), m =>
        {
            var data = m.Data;
            Outcome memory, stream;
            using (var r = new XenReader(data)) memory = Read(r);
            using (var r = new XenReader(Streams.Trickle(data, data.Length))) stream = Read(r);
            if (memory.Rule is not null)
                Assert.True(!string.IsNullOrEmpty(memory.Rule) && memory.Offset >= 0 && memory.Offset <= data.Length,
                    $"{m.What}: the error names no rule or an offset outside the input: {memory}");
            Assert.True(memory == stream, $"{m.What}: memory read {memory}, the stream {stream}");
            // Every item, violation and error the same through a pipe, read and awaited.
            var items = SourceTests.Items(() => new XenReader(data));
            // (Reads of up to 1500 octets: a Stream's ReadAsync under a PipeReader goes through the thread pool, each one.)
            System.IO.Pipelines.PipeReader Pipe() => System.IO.Pipelines.PipeReader.Create(new Streams.Pipe(data, 1500, data.Length), new System.IO.Pipelines.StreamPipeReaderOptions(bufferSize: 512, minimumReadSize: 64));
            Assert.Equal(items, SourceTests.Items(() => new XenReader(Pipe())));
            Assert.Equal(items, SourceTests.ItemsAsync(new SourceTests.AwaitedOnly(Pipe())).GetAwaiter().GetResult());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(1500));
    }

    [Fact]
    public void A_claim_past_the_element_limit_is_refused_on_the_limit_at_the_elements_start_from_every_source()
    {
        // An xl header whose optional data claims 200 MiB, in a file of 64 octets.
        var xl = Images.First(i => i.Name == "xl PV").Image.AsSpan(0, 64).ToArray();
        Streams.U4(xl, 44, 200 << 20);
        var expected = "error record-length-limit: field (record), offset 0 (0x0): record of 209715248 octets exceeds the limit of 134217728 octets";
        Assert.EndsWith(expected, SourceTests.Items(() => new XenReader(xl)));
        Assert.EndsWith(expected, SourceTests.Items(() => new XenReader(Streams.Trickle(xl, 1))));
        Assert.EndsWith(expected, SourceTests.Items(() => new XenReader(System.IO.Pipelines.PipeReader.Create(new MemoryStream(xl)))));
    }

    [Fact]
    public void The_converter_given_a_mutated_legacy_image_writes_a_stream_that_verifies_or_nothing_and_never_changes_its_input()
    {
        int run = 0;
        Prop.ForAll(Mutant(Legacy).ToArbitrary(), Gen.Elements(LegacyOutputFormat.Libxc, LegacyOutputFormat.Libxl).ToArbitrary(), (m, format) =>
        {
            var input = m.Data;
            var copy = (byte[])input.Clone();
            var options = new LegacyOptions { Format = format };
            byte[]? written = null;
            FgException? error = null;
            try
            {
                var output = new MemoryStream();
                LegacyConverter.Convert(input, output, options);
                written = output.ToArray();
            }
            catch (FgException e) { error = e; }
            Assert.True(copy.AsSpan().SequenceEqual(input), m.What + ": the converter changed its input");
            if (error is not null)
                Assert.True(!string.IsNullOrEmpty(error.Rule) && error.Offset >= 0 && error.Offset <= input.Length, $"{m.What}: {error.Rule} at {error.Offset}");
            else
            {
                // What the converter wrote is a stream Xen restores: no error, at most warnings (the test images' vCPU state is filler).
                using var r = new XenReader(written!);
                var read = Read(r);
                Assert.True(read.Rule is null && read.Errors == 0, $"{m.What}: the conversion does not verify: {read}");
            }

            // The same through the command, one case in four: a file only when the conversion succeeded, the input file as it was.
            if (run++ % 4 != 0) return;
            var inPath = Path.Combine(_dir, "in.img");
            var outPath = Path.Combine(_dir, "out.img");
            File.WriteAllBytes(inPath, input);
            var stderr = Console.Error;
            Console.SetError(TextWriter.Null);
            int exit;
            try { exit = FormatGen.Cli.ConvertLegacyCommand.Run(inPath, outPath, options, verbose: false); }
            finally { Console.SetError(stderr); }
            Assert.True(File.ReadAllBytes(inPath).AsSpan().SequenceEqual(copy), m.What + ": convert-legacy changed its input file");
            if (error is null)
            {
                Assert.Equal(0, exit);
                Assert.Equal(written, File.ReadAllBytes(outPath));
            }
            else
            {
                Assert.Equal(1, exit);
                Assert.Equal(new[] { "in.img" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
            }
            File.Delete(outPath);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(600));
    }
}
