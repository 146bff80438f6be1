using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FormatGen.Runtime;
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
            ("FgStreamReader<Record>(ROM), check mode", () => Stream(image)),
            ("grammar per record, no framing (floor)", () => Floor(image)),
        };
        // Warm up until the JIT has compiled every path at its final tier: a round of a small image
        // ends before tiered compilation has replaced the first code (100 ms after the last new method).
        var warm = Stopwatch.StartNew();
        for (int n = 0; n < 30 || warm.Elapsed < TimeSpan.FromSeconds(2); n++)
        {
            foreach (var m in measures) m.Run();
            if (n % 5 == 4) System.Threading.Thread.Sleep(150);
        }
        var times = measures.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < measures.Length; i++)
            {
                var watch = Stopwatch.StartNew();
                long result = measures[i].Run();
                watch.Stop();
                if (result < 0) throw new InvalidOperationException("unreachable");
                times[i].Add(watch.Elapsed.TotalSeconds);
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

    // What the grammar costs read one record at a time, without a reader's framing: a floor for the readers above.
    private static long Floor(byte[] image)
    {
        var g = new LibxcStreamGrammar();
        var v = new FgValidation();
        var r0 = new FgReader(image, false);
        g.ReadPrefix(ref r0, v);
        int pos = r0.Position; long n = 0; bool last = false;
        while (!last)
        {
            v.Clear();
            var r = new FgReader(image.AsSpan(pos), g.ElementsLittleEndian, pos);
            g.ReadElement(ref r, v, false, n, out last);
            pos += r.Position; n++;
        }
        return n;
    }

    // The runtime's generic stream reader (any grammar) without the layout rules LibxcReader adds.
    private static long Stream(byte[] image)
    {
        using var s = new FgStreamReader<Record>(new FgSource((ReadOnlyMemory<byte>)image), new LibxcStreamGrammar());
        s.ReadPrefix();
        long n = 0;
        while (s.MoveNext(false)) n++;
        return n;
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
