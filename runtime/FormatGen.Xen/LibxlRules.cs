using System.Collections.Generic;
using System.Globalization;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;
using LibxlRecord = FormatGen.Xen.Libxl.Record;
using LibxlRecordType = FormatGen.Xen.Libxl.RecordType;

namespace FormatGen.Xen;

/// <summary>
/// The rules of a libxl stream that depend on where a record stands, as
/// libxl's restore (tools/libs/light/libxl_stream_read.c) applies them:
/// LIBXC_CONTEXT first and once; emulator records only for an HVM guest and
/// only outside the libxc stream; CHECKPOINT_END only inside a checkpoint
/// (after a libxc CHECKPOINT); CHECKPOINT_STATE only between checkpoints of a
/// COLO stream; END outside a checkpoint. It also keeps the checkpoint count.
/// What one record says alone (lengths, ids, the xenstore strings' count) is
/// the grammar's (grammar/xen/libxl.ksy).
/// </summary>
/// <remarks>One mistake is one error: each rule reports once per stream.</remarks>
public sealed class LibxlRules
{
    private bool _libxcSeen, _libxcEnded, _atBoundary;
    private DomainType _domain;
    private readonly HashSet<string> _reported = new();

    /// <summary>Which layer the wire continues with after a record.</summary>
    public enum Next { Libxl, Libxc }

    /// <summary>A CHECKPOINT was seen: the stream is checkpointed.</summary>
    public bool Checkpointed { get; private set; }

    /// <summary>CHECKPOINT_STATE records follow the checkpoints (COLO).</summary>
    public bool Colo { get; private set; }

    /// <summary>Checkpoints ended by CHECKPOINT_END.</summary>
    public int CompleteRounds { get; private set; }

    /// <summary>After a libxc CHECKPOINT, before its CHECKPOINT_END.</summary>
    public bool InCheckpoint { get; private set; }

    /// <summary>The libxc stream began (its headers were read), for a guest of this type.</summary>
    public void LibxcStarted(DomainType domain)
    {
        _libxcSeen = true;
        _domain = domain;
    }

    /// <summary>The libxc stream read its END.</summary>
    public void LibxcEnded()
    {
        _libxcEnded = true;
        _atBoundary = false;
    }

    /// <summary>The libxc stream read a CHECKPOINT: libxl records follow, up to CHECKPOINT_END.</summary>
    public void CheckpointStarted()
    {
        Checkpointed = true;
        InCheckpoint = true;
        _atBoundary = false;
    }

    /// <summary>Checks one libxl record; says which layer comes next on the wire.</summary>
    public Next Observe(LibxlRecord? record, LibxlRecordType type, long index, long offset, string name, List<FgViolation> into)
    {
        bool wasBoundary = _atBoundary;
        _atBoundary = false;
        if (index == 0 && type != LibxlRecordType.LibxcContext)
            Fail(into, "libxl-first-record", index, offset, name, "LIBXC_CONTEXT first", RecordNames.Of(type),
                "A libxl stream begins with LIBXC_CONTEXT: libxl's restore starts the libxc stream there.");
        switch (type)
        {
            case LibxlRecordType.LibxcContext:
                if (_libxcSeen)
                    Fail(into, "libxl-libxc-context-twice", index, offset, name, "one LIBXC_CONTEXT", "another",
                        "A libxl stream carries one libxc stream.");
                return Next.Libxc;
            case LibxlRecordType.EmulatorXenstoreData or LibxlRecordType.EmulatorContext:
                if (_libxcSeen && _domain != DomainType.X86Hvm)
                    Fail(into, "libxl-emulator-not-hvm", index, offset, name, "emulator records for an HVM guest only",
                        "a " + RecordNames.Upper(_domain.KsyName(), (long)_domain) + " guest", "libxl's restore refuses emulator records for a guest without a device model.");
                if (type == LibxlRecordType.EmulatorXenstoreData && record?.Body is Libxl.EmulatorXenstoreData data) CheckKeys(data, index, offset, name, into);
                return Next.Libxl;
            case LibxlRecordType.CheckpointEnd:
                if (!InCheckpoint)
                {
                    Fail(into, "libxl-checkpoint-end-outside", index, offset, name, "CHECKPOINT_END after a libxc CHECKPOINT", "no checkpoint open",
                        "libxl's restore refuses a CHECKPOINT_END outside a checkpoint.");
                    return Next.Libxl;
                }
                InCheckpoint = false;
                CompleteRounds++;
                return Boundary();
            case LibxlRecordType.CheckpointState:
                if (!wasBoundary)
                {
                    Fail(into, "libxl-checkpoint-state-outside", index, offset, name, "CHECKPOINT_STATE right after a CHECKPOINT_END (COLO)", "elsewhere",
                        "libxl's restore reads CHECKPOINT_STATE only while waiting for a COLO checkpoint.");
                    return Next.Libxl;
                }
                Colo = true;
                return Boundary();
            case LibxlRecordType.End:
                if (InCheckpoint)
                    Fail(into, "libxl-end-in-checkpoint", index, offset, name, "CHECKPOINT_END before END",
                        string.Create(CultureInfo.InvariantCulture, $"END inside checkpoint {CompleteRounds + 1}"),
                        "A checkpoint is ended by CHECKPOINT_END; a receiver has not committed to this one.");
                return Next.Libxl;
            default:
                return Next.Libxl;
        }
    }

    /// <summary>Between checkpoints: the libxc stream resumes next, unless it has ended.</summary>
    private Next Boundary()
    {
        _atBoundary = true;
        return _libxcEnded ? Next.Libxl : Next.Libxc;
    }

    /// <summary>Keys as libxl's restore accepts them: not empty, relative, printable (values may be anything NUL-free).</summary>
    private void CheckKeys(Libxl.EmulatorXenstoreData data, long index, long offset, string name, List<FgViolation> into)
    {
        for (int i = 0; i < data.Strings.Count; i += 2)
        {
            var key = data.Strings[i];
            string? wrong = key.Length == 0 ? "an empty key"
                : key[0] == '/' ? "an absolute key '" + key + "'"
                : Printable(key) ? null : "a key with a space or control character";
            if (wrong is null) continue;
            Fail(into, "libxl-xenstore-key", index, offset, name,
                "keys relative to the emulator's xenstore path, of printable characters",
                string.Create(CultureInfo.InvariantCulture, $"{wrong} (string {i})"),
                "libxl's restore refuses empty and absolute keys; xenstore paths are printable characters.", field: string.Create(CultureInfo.InvariantCulture, $"body.strings[{i}]"));
            return;
        }
    }

    private static bool Printable(string s)
    {
        foreach (var c in s)
            if (c is <= ' ' or >= (char)0x7f) return false;
        return true;
    }

    private void Fail(List<FgViolation> into, string rule, long index, long offset, string name, string expected, string actual, string description, string field = "type")
    {
        if (!_reported.Add(rule)) return;
        into.Add(new FgViolation(rule, FgSeverity.Error, field, offset, expected, actual, description) { RecordIndex = index, RecordName = name });
    }
}
