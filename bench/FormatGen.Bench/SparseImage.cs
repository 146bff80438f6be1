using System;
using System.IO;
using System.Linq;
using FormatGen.Xen.Libxc;

namespace FormatGen.Bench;

/// <summary>
/// <c>sparse-image FILE</c>: an HVM libxc stream of 65536 pages at pseudo-random
/// pfns below 2^40, 1024 to a record (256 MiB): the worst case of memory for an
/// extraction (every page its own run, its own region of the ELF file).
/// </summary>
internal static class SparseImage
{
    public static int Write(string path)
    {
        using var file = File.Create(path);
        var w = new LibxcStreamWriter(file, new ImageHeader { Version = 3 }, new DomainHeader { Type = DomainType.X86Hvm, PageShift = 12, XenMajor = 4, XenMinor = 19 });
        var random = new Random(40);
        var data = new byte[1024 * 4096];
        random.NextBytes(data);
        for (int r = 0; r < 64; r++)
        {
            var pfns = Enumerable.Range(0, 1024).Select(_ => new PfnEntry { Pfn = (ulong)random.NextInt64(1L << 40), Type = PageType.Notab }).ToArray();
            w.Write(new Record { Body = new PageData { Pfns = pfns, Data = data } });
        }
        w.Write(new Record { Body = new End() });
        return 0;
    }
}
