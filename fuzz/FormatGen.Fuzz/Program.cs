using System;
using System.IO;
using FormatGen.Runtime;
using FormatGen.Xen;
using SharpFuzz;

namespace FormatGen.Fuzz;

/// <summary>
/// AFL++ harness: any input must either verify or fail with FgException.
/// Any other exception, a hang or a crash is a bug.
///   fuzz/run.sh [SECONDS]            fuzz with AFL++ (installs it if missing)
///   dotnet run --project fuzz/FormatGen.Fuzz -- --replay DIR   re-run saved inputs
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--replay")
        {
            int n = 0;
            foreach (var file in Directory.GetFiles(args[1]))
            {
                Check(File.ReadAllBytes(file));
                n++;
            }
            Console.WriteLine($"replayed {n} input(s) without a crash");
            return 0;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            Check(ms.ToArray());
        });
        return 0;
    }

    /// <summary>Reads and checks every record, both with and without models; only FgException may escape.</summary>
    public static void Check(byte[] input)
    {
        foreach (var build in new[] { false, true })
        {
            try
            {
                using var r = new LibxcReader(new MemoryStream(input), new FgStreamOptions { MaxElementLength = 1 << 20 });
                r.ReadHeaders();
                while (r.MoveNext(build))
                    if (build && r.Current is { } rec) _ = RecordSummary.Of(rec);
            }
            catch (FgException)
            {
            }
        }
    }
}
