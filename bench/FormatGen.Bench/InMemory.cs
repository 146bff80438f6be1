using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Bench;

/// <summary>
/// <c>inmemory FILE [ROUNDS]</c>: checking an image held in memory, every way
/// the library offers, against the grammar's own span validator over the same
/// octets (<c>Libxc.Validate</c>, which checks the grammar's rules only). The
/// measures are interleaved, one of each per round; each figure is a median.
/// </summary>
internal static class InMemory
{
    public static int Run(string path, int rounds)
    {
        var image = File.ReadAllBytes(path);
        var measures = new (string Name, Func<long> Run)[]
        {
            ("Libxc.Validate(span), grammar rules", () => Libxc.Validate(image).Count),
            ("LibxcReader(ReadOnlyMemory), check mode", () => Check(new LibxcReader(image.AsMemory()))),
            ("LibxcReader(MemoryStream), check mode", () => Check(new LibxcReader(new MemoryStream(image, writable: false)))),
            ("LibxcReader(ReadOnlyMemory), models", () => Models(new LibxcReader(image.AsMemory()))),
        };
        var times = measures.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < rounds; round++) // round -1 warms up
            for (int i = 0; i < measures.Length; i++)
            {
                var watch = Stopwatch.StartNew();
                long result = measures[i].Run();
                watch.Stop();
                if (result < 0) throw new InvalidOperationException("unreachable");
                if (round >= 0) times[i].Add(watch.Elapsed.TotalSeconds);
            }
        var medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        Console.WriteLine($"image: {path} ({image.Length} octets), {rounds} interleaved rounds, median seconds");
        for (int i = 0; i < measures.Length; i++)
            Console.WriteLine($"{measures[i].Name,-45} {medians[i],8:F4} s  {medians[i] / medians[0],5:F2}x Validate");
        Console.WriteLine($"reader over memory against Validate: ROM {medians[1] / medians[0]:F2}x, MemoryStream {medians[2] / medians[0]:F2}x (target <= 1.5x)");
        return 0;
    }

    private static long Check(LibxcReader r)
    {
        using (r)
        {
            r.ReadHeaders();
            long n = r.Violations.Count;
            while (r.MoveNext(build: false)) n += r.Violations.Count + 1;
            return n;
        }
    }

    private static long Models(LibxcReader r)
    {
        using (r)
        {
            long n = 0;
            while (r.MoveNext(build: true)) n += r.Current!.Body is PageData p ? p.Pfns.Count : 1;
            return n;
        }
    }
}
