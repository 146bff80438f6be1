using System;
using System.IO;
using System.Reflection;
using PublicApiGenerator;
using Xunit;

namespace FormatGen.Tests;

/// <summary>
/// The public surface of the libraries users take from NuGet, written down:
/// a change to it shows in review as a change to the baseline
/// (FORMATGEN_UPDATE_BASELINES=1 rewrites them).
/// </summary>
public class PublicApiTests
{
    [Theory]
    [InlineData("FormatGen.Runtime")]
    [InlineData("FormatGen.Xen")]
    public void The_public_api_matches_its_baseline(string assemblyName)
    {
        var assembly = assemblyName == "FormatGen.Runtime" ? typeof(FormatGen.Runtime.FgReader).Assembly : typeof(FormatGen.Xen.XenReader).Assembly;
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false, ExcludeAttributes = ["System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute", "System.Runtime.CompilerServices.AsyncStateMachineAttribute"] }).Replace("\r\n", "\n");
        var path = Path.Combine(RepoPaths.Root, "tests", "FormatGen.Tests", "Baselines", "api", assemblyName + ".txt");
        if (Environment.GetEnvironmentVariable("FORMATGEN_UPDATE_BASELINES") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, api);
        }
        Assert.True(File.Exists(path), path + " is missing: FORMATGEN_UPDATE_BASELINES=1 writes it");
        var expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.True(expected == api, $"The public API of {assemblyName} changed. If that is intended, FORMATGEN_UPDATE_BASELINES=1 rewrites {path}; review the diff.\n"
            + TextDiff.FirstDifference(expected, api));
    }
}
