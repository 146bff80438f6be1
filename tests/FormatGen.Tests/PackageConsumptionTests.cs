using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace FormatGen.Tests;

/// <summary>
/// FormatGen as a .NET user gets it, offline: the packages are packed into a
/// folder, a fresh console project (outside the repository) takes `FormatGen`
/// from there and everything else from the machine's package cache, and
/// builds, runs and publishes (Native AOT) the README's example word for word;
/// the `xenstream` tool installs from the same folder and runs: the Native AOT
/// executable on this machine's runtime, the framework-dependent build on others.
/// </summary>
public sealed class PackageConsumptionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("formatgen-consumer-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private (int Exit, string Out) Dotnet(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet", args)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Not the test run's MSBuild: a fresh project builds as a user's would.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        output.WriteLine($"dotnet {string.Join(' ', args)}: exit {p.ExitCode}, {clock.Elapsed.TotalSeconds:F1} s");
        return (p.ExitCode, text + err.Result);
    }

    /// <summary>The README's blocks marked <c>&lt;!-- readme-test: NAME --&gt;</c>.</summary>
    private static Dictionary<string, string> ReadmeBlocks()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        return Regex.Matches(readme, @"<!-- readme-test: (\S+) -->\s*```[a-z]*\n(.*?)```", RegexOptions.Singleline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
    }

    private static string Version()
        => Regex.Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    [Fact]
    public void A_fresh_project_reads_and_writes_its_own_format_from_the_packed_packages_and_the_tool_installs()
    {
        var version = Version();
        var packages = Path.Combine(_dir, "packages");
        foreach (var project in new[] { "pack/FormatGen/FormatGen.csproj", "runtime/FormatGen.Runtime/FormatGen.Runtime.csproj", "runtime/FormatGen.Xen/FormatGen.Xen.csproj", "cli/Cli.csproj" })
        {
            var (exit, log) = Dotnet(RepoPaths.Root, "pack", project, "-c", "Release", "-o", packages);
            Assert.True(exit == 0, log);
        }
        Assert.True(File.Exists(Path.Combine(packages, $"FormatGen.{version}.nupkg")));

        // Everything but our packages from the machine's cache, into a cache of the project's own (no stale FormatGen).
        var (_, locals) = Dotnet(_dir, "nuget", "locals", "global-packages", "--list");
        var machineCache = Regex.Match(locals, @"global-packages:\s*(\S+)").Groups[1].Value;
        File.WriteAllText(Path.Combine(_dir, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir, "cache")}" /></config>
              <packageSources>
                <clear />
                <add key="formatgen" value="{packages}" />
                <add key="machine" value="{machineCache}" />
              </packageSources>
            </configuration>
            """);

        // The README's three steps.
        var blocks = ReadmeBlocks();
        var app = Path.Combine(_dir, "app");
        var step = Dotnet(_dir, "new", "console", "-n", "App", "-o", "app", "--no-restore");
        Assert.True(step.Exit == 0, step.Out);
        step = Dotnet(app, "add", "package", "FormatGen", "--version", version);
        Assert.True(step.Exit == 0, step.Out);
        File.WriteAllText(Path.Combine(app, "sensors.ksy"), blocks["sensors.ksy"]);
        File.WriteAllText(Path.Combine(app, "Program.cs"), blocks["Program.cs"]);
        step = Dotnet(app, "build", "-c", "Release");
        Assert.True(step.Exit == 0, step.Out);
        Assert.DoesNotMatch(@"warning [A-Z]+\d+", step.Out);
        var run = Dotnet(app, Path.Combine(app, "bin", "Release", "net10.0", "App.dll"));
        Assert.Equal(0, run.Exit);
        Assert.Equal(blocks["output"], run.Out);

        // Grammars not picked up (turned off) and not listed: said so, by name.
        step = Dotnet(app, "build", "-c", "Release", "-p:FormatGenIncludeGrammars=false", "-o", Path.Combine(_dir, "off"));
        Assert.Matches(@"sensors\.ksy.*warning FG0020: sensors\.ksy is in the project but not an AdditionalFile", step.Out);

        // Native AOT: no trim or AOT warnings, the same output.
        var native = Path.Combine(_dir, "native");
        step = Dotnet(app, "publish", "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", native);
        Assert.True(step.Exit == 0, step.Out);
        Assert.DoesNotMatch(@"warning (IL\d+|NETSDK)", step.Out);
        using (var p = Process.Start(new ProcessStartInfo(Path.Combine(native, "App")) { RedirectStandardOutput = true })!)
        {
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(blocks["output"], text);
        }

        // A grammar's namespace from item metadata: given with Update (as for Compile items), or on the project's own Include.
        var csproj = Path.Combine(app, "App.csproj");
        var original = File.ReadAllText(csproj);
        File.WriteAllText(Path.Combine(app, "Program.cs"), "System.Console.WriteLine(typeof(Ns.Sensors).FullName);\n");
        // (The Include spells the path otherwise than the pick-up does: it is the same grammar.)
        foreach (var (item, path, ns) in new[] { ("Update", "sensors.ksy", "My.Formats"), ("Include", "./sensors.ksy", "X.Y") })
        {
            File.WriteAllText(csproj, original.Replace("</Project>", $"  <ItemGroup>\n    <AdditionalFiles {item}=\"{path}\" FormatGenNamespace=\"{ns}\" />\n  </ItemGroup>\n</Project>"));
            File.WriteAllText(Path.Combine(app, "Program.cs"), $"System.Console.WriteLine(typeof({ns}.Sensors).FullName);\n");
            var built = Dotnet(app, "build", "-c", "Release", "-o", Path.Combine(_dir, item));
            Assert.True(built.Exit == 0, built.Out);
            Assert.Equal(ns + ".Sensors\n", Dotnet(app, Path.Combine(_dir, item, "App.dll")).Out);
        }

        // xenstream as a .NET tool: `xenstream` names a package per runtime, and this machine's is the native executable.
        var rid = RuntimeInformation.RuntimeIdentifier;
        foreach (var id in new[] { "xenstream", $"xenstream.{rid}", "xenstream.any" })
            Assert.True(File.Exists(Path.Combine(packages, $"{id}.{version}.nupkg")), id);
        var tools = InstallTool(packages, version, "tools");
        var installed = File.ResolveLinkTarget(Path.Combine(tools, "xenstream"), returnFinalTarget: true)?.FullName ?? "";
        Assert.Contains($"{Path.DirectorySeparatorChar}xenstream.{rid}{Path.DirectorySeparatorChar}", installed);
        Assert.Empty(Directory.GetFiles(tools, "*.dll", SearchOption.AllDirectories));
        AssertVerifiesTheSample(tools);

        // Another runtime's machine takes `xenstream.any` (as if this one's package were for another runtime).
        var elsewhere = Path.Combine(_dir, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.Copy(Path.Combine(packages, $"xenstream.any.{version}.nupkg"), Path.Combine(elsewhere, $"xenstream.any.{version}.nupkg"));
        File.Copy(Path.Combine(packages, $"xenstream.{version}.nupkg"), Path.Combine(elsewhere, $"xenstream.{version}.nupkg"));
        using (var pointer = ZipFile.Open(Path.Combine(elsewhere, $"xenstream.{version}.nupkg"), ZipArchiveMode.Update))
        {
            var entry = pointer.Entries.Single(e => e.Name == "DotnetToolSettings.xml");
            string settings;
            using (var reader = new StreamReader(entry.Open()))
                settings = reader.ReadToEnd();
            var other = rid == "linux-arm64" ? "linux-x64" : "linux-arm64";
            Assert.Contains($"RuntimeIdentifier=\"{rid}\"", settings);
            settings = settings.Replace($"RuntimeIdentifier=\"{rid}\" Id=\"xenstream.{rid}\"", $"RuntimeIdentifier=\"{other}\" Id=\"xenstream.{other}\"");
            entry.Delete();
            using var writer = new StreamWriter(pointer.CreateEntry(entry.FullName).Open());
            writer.Write(settings);
        }
        var fallback = InstallTool(elsewhere, version, "tools-any");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(fallback, ".store"), "xenstream.dll", SearchOption.AllDirectories));
        AssertVerifiesTheSample(fallback);
    }

    /// <summary>`dotnet tool install xenstream` from <paramref name="source"/> alone, into a tool path of its own.</summary>
    private string InstallTool(string source, string version, string name)
    {
        var tools = Path.Combine(_dir, name);
        File.WriteAllText(Path.Combine(_dir, $"{name}.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir, name + "-cache")}" /></config>
              <packageSources><clear /><add key="tool" value="{source}" /></packageSources>
            </configuration>
            """);
        var step = Dotnet(_dir, "tool", "install", "xenstream", "--tool-path", tools, "--version", version, "--configfile", Path.Combine(_dir, $"{name}.config"));
        Assert.True(step.Exit == 0, step.Out);
        return tools;
    }

    private static void AssertVerifiesTheSample(string tools)
    {
        using var p = Process.Start(new ProcessStartInfo(Path.Combine(tools, "xenstream"), new[] { "verify", "--sample" }) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.StartsWith("VALID: (built-in sample)", text);
    }
}
