using System;

namespace FormatGen.Tests;

/// <summary>Where a text first differs from its baseline, for a failing baseline test's message.</summary>
internal static class TextDiff
{
    public static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "(end)";
            var y = i < b.Length ? b[i] : "(end)";
            if (x != y) return $"line {i + 1}:\n  baseline: {x}\n  now:      {y}";
        }
        return "(same lines, different line ends)";
    }
}
