using System;
using System.IO;
using System.Net.Sockets;
using System.Text;

namespace FormatGen.Cli;

/// <summary>
/// A text writer that sends each line to the local syslog daemon (the
/// /dev/log socket, facility user), as verify-stream-v2 --syslog does: info
/// lines at LOG_INFO, error lines at LOG_ERR. Without a syslog daemon the
/// lines go to standard error, said once.
/// </summary>
internal sealed class SyslogWriter : TextWriter
{
    private const int User = 1 << 3, Err = 3, Info = 6;
    private readonly string _tag;
    private readonly Socket? _socket;
    private readonly StringBuilder _line = new();

    public SyslogWriter(string tag)
    {
        _tag = tag + "[" + Environment.ProcessId + "]";
        try
        {
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            _socket.Connect(new UnixDomainSocketEndPoint("/dev/log"));
        }
        catch (SocketException)
        {
            _socket?.Dispose();
            _socket = null;
            Console.Error.WriteLine("xenstream: no syslog daemon (/dev/log): the report goes to standard error");
        }
    }

    /// <summary>Whether lines reach syslog (otherwise they go to standard error).</summary>
    public bool Connected => _socket is not null;

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n') Send();
        else _line.Append(value);
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        foreach (var c in value) Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Send();
    }

    private void Send()
    {
        var text = _line.ToString();
        _line.Clear();
        if (_socket is null) { Console.Error.WriteLine(text); return; }
        int severity = text.StartsWith("error", StringComparison.Ordinal) || text.StartsWith("INVALID", StringComparison.Ordinal) ? Err : Info;
        var message = "<" + (User | severity) + ">" + _tag + ": " + text;
        try { _socket.Send(Encoding.UTF8.GetBytes(message)); }
        catch (SocketException) { Console.Error.WriteLine(text); }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_line.Length > 0) Send();
            _socket?.Dispose();
        }
        base.Dispose(disposing);
    }
}
