using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace FormatGen.Cli;

/// <summary>Options that take a size: 4096, 512K, 128M, 1G, 2T (binary units; "B" and "iB" allowed).</summary>
internal static class Sizes
{
    public static Option<long> Option(string name, string description, long? defaultValue = null, bool required = false)
    {
        var option = new Option<long>(name) { Description = description, Required = required, CustomParser = Parse };
        if (defaultValue is { } d) option.DefaultValueFactory = _ => d;
        return option;
    }

    private static long Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (TryParse(text, out long value)) return value;
        var name = (result.Parent as OptionResult)?.Option.Name ?? "a size";
        result.AddError(name + ": '" + text + "' is not a size (e.g. 4096, 512K, 1G)");
        return 0;
    }

    public static bool TryParse(string text, out long value)
    {
        value = 0;
        var s = text.Trim().ToUpperInvariant();
        if (s.EndsWith("IB", StringComparison.Ordinal)) s = s[..^2];
        else if (s.EndsWith('B')) s = s[..^1];
        int shift = s.Length == 0 ? 0 : s[^1] switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) s = s[..^1];
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > long.MaxValue >> shift) return false;
        value = n << shift;
        return true;
    }
}
