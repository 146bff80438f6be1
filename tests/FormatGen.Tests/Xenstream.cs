using System;
using System.Diagnostics;
using System.IO;

namespace FormatGen.Tests;

/// <summary>The real xenstream binary (the JIT build beside the tests), run as operators and scripts run it.</summary>
internal static class Xenstream
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "xenstream.dll");

    /// <summary>Runs a shell command line in <paramref name="dir"/>, with "xenstream" standing for the binary.</summary>
    public static (int Exit, string Out, string Err) Sh(string dir, string command)
    {
        var psi = new ProcessStartInfo("bash", new[] { "-c", "xenstream() { dotnet \"" + Dll + "\" \"$@\"; }\n" + command })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
        };
        using var p = Process.Start(psi)!;
        var outTask = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, outTask.Result, err);
    }
}
