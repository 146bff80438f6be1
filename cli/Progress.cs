using System;
using System.Diagnostics;
using System.Globalization;

namespace FormatGen.Cli;

/// <summary>Progress on stderr, only when stderr is a terminal; at most twice a second.</summary>
internal sealed class Progress : IProgress<long>
{
    private readonly string _name;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _next = 1000;
    private bool _shown;
    private readonly bool _enabled;

    private Progress(string name, long total, bool enabled) { _name = name; _total = total; _enabled = enabled; }

    /// <param name="name">What is being read or written.</param>
    /// <param name="total">Octets in all, when known (shown as a share), else 0.</param>
    public static Progress Start(string name, long total = 0) => new(name, total, !Console.IsErrorRedirected);

    /// <summary>No progress at all (quiet runs).</summary>
    public static Progress None => new("", 0, false);

    public void Report(long position)
    {
        if (!_enabled || _clock.ElapsedMilliseconds < _next) return;
        _next = _clock.ElapsedMilliseconds + 500;
        var share = _total > 0 ? string.Create(CultureInfo.InvariantCulture, $" of {_total >> 20} MiB ({100.0 * position / _total:0}%)") : "";
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{_name}: {position >> 20} MiB{share} "));
        _shown = true;
    }

    public void Done()
    {
        if (_shown) Console.Error.Write("\r\x1b[K");
    }
}
