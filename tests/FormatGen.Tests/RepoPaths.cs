using System;
using System.IO;

namespace FormatGen.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding FormatGen.sln).</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FormatGen.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("FormatGen.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Libxc => Path.Combine(Root, "grammar", "xen", "libxc.ksy");
}
