using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
using FormatGen.Xen;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace FormatGen.Tests;

/// <summary>One mistake, one error: a record moved to a wrong place is reported once, naming it.</summary>
public class NoCascadeTests
{
    private static List<byte[]> Split(byte[] image, out byte[] headers)
    {
        var offsets = Streams.RecordOffsets(image);
        headers = image.AsSpan(0, (int)offsets[0]).ToArray();
        var records = new List<byte[]>();
        for (int i = 0; i < offsets.Count; i++)
        {
            long end = i + 1 < offsets.Count ? offsets[i + 1] : image.Length;
            records.Add(image.AsSpan((int)offsets[i], (int)(end - offsets[i])).ToArray());
        }
        return records;
    }

    private static byte[] Moved(byte[] headers, List<byte[]> records, int from, int to)
    {
        var list = new List<byte[]>(records);
        var r = list[from];
        list.RemoveAt(from);
        list.Insert(to, r);
        return headers.Concat(list.SelectMany(x => x)).ToArray();
    }

    /// <summary>The errors of a verification: error violations and the structural error, as text.</summary>
    private static List<string> Errors(byte[] image)
    {
        var (violations, error, _) = Streams.Verify(image);
        var errors = violations.Where(v => v.Severity == FgSeverity.Error).Select(v => v.ToString()).ToList();
        if (error is not null) errors.Add(error.Format());
        return errors;
    }

    private static string NameOf(byte[] record, bool bigEndian)
        => RecordNames.Of(Xen.Libxc.Record.PeekType(record, !bigEndian));

    /// <summary>Checks one move; returns whether it was wrong (one error) rather than harmless (none).</summary>
    private static bool CheckMove(byte[] headers, List<byte[]> records, int from, int to, bool bigEndian)
    {
        var errors = Errors(Moved(headers, records, from, to));
        var name = NameOf(records[from], bigEndian);
        Assert.True(errors.Count <= 1, $"moving record {from} ({name}) to {to} gives {errors.Count} errors:\n" + string.Join("\n", errors));
        if (errors.Count == 1) Assert.True(errors[0].Contains(name), $"moving record {from} ({name}) to {to}: the error does not name it: {errors[0]}");
        return errors.Count == 1;
    }

    public static IEnumerable<object[]> Samples() => new[]
    {
        new object[] { GuestKind.Pv, 2u }, new object[] { GuestKind.Pv, 3u },
        new object[] { GuestKind.Hvm, 2u }, new object[] { GuestKind.Hvm, 3u },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_single_move_of_one_record_gives_at_most_one_error_naming_it(GuestKind guest, uint version)
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = guest, Version = version, MemoryBytes = 64 * 4096, PagesPerRecord = 16 });
        var image = ms.ToArray();
        Assert.Empty(Errors(image));
        var records = Split(image, out var headers);
        int wrong = 0;
        for (int from = 0; from < records.Count; from++)
            for (int to = 0; to < records.Count; to++)
                if (from != to && CheckMove(headers, records, from, to, false)) wrong++;
        // Most moves break a rule; the test is worthless if none did.
        Assert.True(wrong > records.Count, $"only {wrong} of the moves were wrong");
    }

    [Fact]
    public void A_record_moved_anywhere_in_any_sample_gives_at_most_one_error_naming_it()
    {
        var gen =
            from guest in Gen.Elements(GuestKind.Pv, GuestKind.Hvm)
            from version in Gen.Elements(2u, 3u)
            from be in Gen.Elements(false, true)
            from pages in Gen.Choose(2, 3000)
            from batch in Gen.Elements(1, 7, 64, 1024)
            from vcpus in Gen.Choose(1, 3)
            from a in Gen.Choose(0, 1 << 20)
            from b in Gen.Choose(0, 1 << 20)
            select (new SampleOptions { Guest = guest, Version = version, BigEndian = be, MemoryBytes = pages * 4096L, PagesPerRecord = batch, Vcpus = vcpus }, a, b);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var (o, a, b) = c;
            var ms = new MemoryStream();
            LibxcSample.Write(ms, o);
            var records = Split(ms.ToArray(), out var headers);
            int from = a % records.Count, to = b % records.Count;
            if (from != to) CheckMove(headers, records, from, to, o.BigEndian);
        }).QuickCheckThrowOnFailure();
    }
}
