using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>One-line descriptions of records for dump and verify -v.</summary>
public static class RecordSummary
{
    /// <summary>PAGE_DATA: pfn ranges and page counts; other records: their generated field summary.</summary>
    public static string Of(Record record) => record.Body switch
    {
        PageData p => PageData(p),
        { } body => body.Summary(),
        _ => "",
    };

    /// <summary>A libxl record: the xenstore keys and values, the emulator, the checkpoint step.</summary>
    public static string Of(Libxl.Record record) => record.Body switch
    {
        Libxl.EmulatorXenstoreData x => "emulator=" + RecordNames.Upper(Libxl.EmulatorIdNames.KsyName(x.Emulator.EmulatorId), (long)x.Emulator.EmulatorId) + ", index=" + x.Emulator.Index.ToString(CultureInfo.InvariantCulture)
            + ", " + XenstorePairs(x.Strings),
        Libxl.EmulatorContext c => "emulator=" + RecordNames.Upper(Libxl.EmulatorIdNames.KsyName(c.Emulator.EmulatorId), (long)c.Emulator.EmulatorId) + ", index=" + c.Emulator.Index.ToString(CultureInfo.InvariantCulture)
            + ", state=" + c.State.Length.ToString(CultureInfo.InvariantCulture) + " octets",
        Libxl.CheckpointState s => "control=" + RecordNames.Upper(Libxl.CheckpointControlNames.KsyName(s.ControlId), (long)s.ControlId),
        { } body => body.Summary(),
        _ => "",
    };

    private static string XenstorePairs(IReadOnlyList<string> strings)
    {
        var sb = new StringBuilder();
        for (int i = 0; i + 1 < strings.Count; i += 2)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(strings[i]).Append("=\"").Append(strings[i + 1]).Append('"');
        }
        return sb.ToString();
    }

    public static string PageData(PageData p)
    {
        var sb = new StringBuilder();
        int withData = 0;
        var types = new SortedDictionary<PageType, int>();
        foreach (var e in p.Pfns)
        {
            if (e.HasData) withData++;
            types[e.Type] = types.TryGetValue(e.Type, out var n) ? n + 1 : 1;
        }
        sb.Append(CultureInfo.InvariantCulture, $"count={p.Pfns.Count}, pages={withData}, pfns ");
        sb.Append(Ranges(p.Pfns, 4));
        if (types.Count > 1 || !types.ContainsKey(PageType.Notab))
        {
            sb.Append(", types");
            foreach (var kv in types) sb.Append(CultureInfo.InvariantCulture, $" {RecordNames.Upper(kv.Key.KsyName(), (long)kv.Key)}:{kv.Value}");
        }
        return sb.ToString();
    }

    /// <summary>Runs of consecutive pfns, e.g. "0x0-0x3ff, 0x800".</summary>
    public static string Ranges(IReadOnlyList<PfnEntry> entries, int max)
    {
        var sb = new StringBuilder();
        int runs = 0, i = 0;
        while (i < entries.Count)
        {
            ulong start = entries[i].Pfn, end = start;
            int j = i + 1;
            while (j < entries.Count && entries[j].Pfn == end + 1) { end++; j++; }
            if (runs == max)
            {
                sb.Append(CultureInfo.InvariantCulture, $", ... ({entries.Count - i} more)");
                break;
            }
            if (runs > 0) sb.Append(", ");
            sb.Append(CultureInfo.InvariantCulture, $"0x{start:x}");
            if (end != start) sb.Append(CultureInfo.InvariantCulture, $"-0x{end:x}");
            runs++;
            i = j;
        }
        return sb.ToString();
    }
}
