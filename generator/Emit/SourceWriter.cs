using System.Text;

namespace FormatGen.Generator.Emit;

/// <summary>Indentation-aware text builder for emitted code.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length == 0) { _sb.Append('\n'); return this; }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        return this;
    }

    public SourceWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    /// <summary>XML doc summary, escaped, one line per source line.</summary>
    public SourceWriter Doc(string? text, string? extra = null)
    {
        if (string.IsNullOrWhiteSpace(text) && string.IsNullOrWhiteSpace(extra)) return this;
        Line("/// <summary>");
        foreach (var l in ((text ?? "").Trim() + (extra is null ? "" : (string.IsNullOrWhiteSpace(text) ? "" : "\n") + extra)).Split('\n'))
            Line("/// " + Escape(l.TrimEnd()));
        Line("/// </summary>");
        return this;
    }

    public static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    public override string ToString() => _sb.ToString();
}
