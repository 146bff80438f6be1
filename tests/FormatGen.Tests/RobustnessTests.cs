using System;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>Bad input never crashes: any corruption gives a result or an FgException, nothing else.</summary>
public class RobustnessTests
{
    private static readonly byte[][] Seeds =
    {
        Streams.Sample(GuestKind.Pv, 3, false, 64 << 10),
        Streams.Sample(GuestKind.Hvm, 2, true, 16 << 10),
    };

    private static Arbitrary<(int Seed, (int At, byte Value)[] Edits, int Cut)> Corruptions =>
        (from seed in Gen.Choose(0, Seeds.Length - 1)
         from edits in Gen.ArrayOf(from at in Gen.Choose(0, Seeds[seed].Length - 1) from v in Gen.Choose(0, 255) select (at, (byte)v))
         from cut in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, Seeds[seed].Length)))
         select (seed, edits, cut)).ToArbitrary();

    [Fact]
    public void Corrupted_streams_give_violations_or_an_FgException_and_nothing_else()
    {
        Prop.ForAll(Corruptions, c =>
        {
            var image = (byte[])Seeds[c.Seed].Clone();
            foreach (var (at, v) in c.Edits) image[at] = v;
            if (c.Cut >= 0) image = image.AsSpan(0, c.Cut).ToArray();
            foreach (var build in new[] { false, true })
            {
                try
                {
                    using var r = new LibxcReader(Streams.Trickle(image, c.Cut), new FgStreamOptions { MaxElementLength = 1 << 20 });
                    r.ReadHeaders();
                    while (r.MoveNext(build))
                        if (build) _ = RecordSummary.Of(r.Current!);
                }
                catch (FgException e)
                {
                    if (string.IsNullOrEmpty(e.Rule) || e.Offset < 0 || e.Offset > image.Length) return false;
                }
            }
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(400));
    }
}
