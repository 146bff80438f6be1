using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using FormatGen.Runtime;
using FormatGen.Xen;
using FormatGen.Xen.Libxc;

namespace FormatGen.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["sparse-image", var sparse]) return SparseImage.Write(sparse);
        if (args is ["inmemory", var path, ..]) return InMemory.Run(path, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 7);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}

/// <summary>
/// Reading a whole image held in memory: check mode (every rule, no models) and
/// model mode. Two image sizes: if Allocated is the same for both, steady-state
/// PAGE_DATA reading allocates nothing per record.
/// </summary>
[MemoryDiagnoser]
public class ReaderBenchmarks
{
    private byte[] _image = Array.Empty<byte>();

    /// <summary>Guest memory in MiB: 64 MiB is 16 PAGE_DATA records, 256 MiB is 64.</summary>
    [Params(64, 256)]
    public int MemoryMiB;

    [GlobalSetup]
    public void Setup()
    {
        var ms = new MemoryStream();
        LibxcSample.Write(ms, new SampleOptions { Guest = GuestKind.Hvm, Version = 3, MemoryBytes = (long)MemoryMiB << 20 });
        _image = ms.ToArray();
    }

    [Benchmark(Description = "verify (check mode, all rules)")]
    public long Check()
    {
        using var r = new LibxcReader(new MemoryStream(_image, writable: false));
        r.ReadHeaders();
        long n = 0;
        while (r.MoveNext(build: false)) n += r.Violations.Count + 1;
        return n;
    }

    [Benchmark(Description = "read models (build mode)")]
    public long Models()
    {
        using var r = new LibxcReader(new MemoryStream(_image, writable: false));
        long n = 0;
        while (r.MoveNext(build: true)) n += r.Current!.Body is PageData p ? p.Pfns.Count : 1;
        return n;
    }
}

/// <summary>Writing: the generated stream writer, which also validates every record it writes.</summary>
[MemoryDiagnoser]
public class WriterBenchmarks
{
    private Record _page = null!;
    private LibxcStreamWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var data = new byte[1024 * 4096];
        new Random(1).NextBytes(data);
        var pfns = new PfnEntry[1024];
        for (int i = 0; i < pfns.Length; i++) pfns[i] = new PfnEntry { Pfn = (ulong)i };
        _page = new Record { Body = new PageData { Pfns = pfns, Data = data } };
        _writer = new LibxcStreamWriter(Stream.Null, new ImageHeader { Version = 3 }, new DomainHeader { Type = DomainType.X86Hvm, PageShift = 12 });
    }

    [Benchmark(Description = "write one PAGE_DATA record (1024 pages, 4 MiB)")]
    public long WritePageData()
    {
        _writer.Write(_page);
        return _writer.Position;
    }
}

/// <summary>The generated validator on one PAGE_DATA record's octets.</summary>
[MemoryDiagnoser]
public class ValidatorBenchmarks
{
    private byte[] _record = Array.Empty<byte>();

    [GlobalSetup]
    public void Setup()
    {
        var pfns = new PfnEntry[1024];
        for (int i = 0; i < pfns.Length; i++) pfns[i] = new PfnEntry { Pfn = (ulong)i };
        _record = new Record { Body = new PageData { Pfns = pfns, Data = new byte[1024 * 4096] } }.ToArray(12, 3, true);
    }

    [Benchmark(Description = "validate one PAGE_DATA record (1024 pfns)")]
    public int Validate() => Record.Validate(_record, 12, 3, true).Count;
}
