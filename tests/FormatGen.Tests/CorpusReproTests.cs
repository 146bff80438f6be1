using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// The small grammars under bench/FormatGen.Corpus/repros, each cut from a
/// public Kaitai grammar that once made the generator crash, hang, refuse or
/// emit C# that does not compile (docs/corpus.md). Each must now generate
/// code that compiles, or get the one refusal written down for it.
/// </summary>
public class CorpusReproTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "bench", "FormatGen.Corpus", "repros");

    /// <summary>Repros still refused, with the diagnostic they get (docs/corpus.md says why).</summary>
    private static readonly Dictionary<string, string> Refused = new();

    public static IEnumerable<object[]> Repros()
        => Directory.GetFiles(Dir, "*.ksy").Select(Path.GetFileName).OrderBy(x => x).Select(x => new object[] { x! });

    [Theory]
    [MemberData(nameof(Repros))]
    public void Each_repro_generates_code_that_compiles_or_gets_its_one_refusal(string file)
    {
        var (run, compiled) = GeneratorHarness.Generate(GeneratorHarness.WithImports(Path.Combine(Dir, file)));
        var diagnostics = run.Diagnostics.Select(d => d.Id + " " + d.GetMessage()).ToList();
        if (Refused.TryGetValue(file, out var refusal))
        {
            Assert.Equal(new[] { refusal }, diagnostics);
            return;
        }
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.Errors(compiled));
    }
}
