using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>
/// The rules of a libxc stream that depend on earlier records: which records
/// a guest type may carry, their order (the specification's dependencies and
/// version 3's STATIC_DATA_END), and what Xen's restore (libxenguest) checks
/// against the state earlier records built: the guest width from
/// X86_PV_INFO, the P2M range and frames from X86_PV_P2M_FRAMES, and at END
/// the records a restore cannot do without. What one record says alone is the
/// grammar's (grammar/xen/libxc.ksy); docs/xen-restore-checks.md lists every
/// check of Xen's restore and where, or why not, it is made.
/// </summary>
/// <remarks>
/// One mistake is one error. A missing record is reported once, at the first
/// record that needs it (or at END), and never again when it arrives late or
/// when later records need it too; a record already reported as misplaced
/// takes no part in the rules that follow; a rule that depends on a value the
/// grammar already found wrong is not checked.
/// </remarks>
public sealed class LayoutRules
{
    private readonly DomainType _domain;
    private readonly uint _version;
    private readonly int _pageShift;
    private readonly bool _le;
    private readonly bool _checkpointed;

    // What has been seen, and what has been reported missing (never reported twice).
    private Need _seen, _reported;
    private int _width;                           // guest width from X86_PV_INFO; 0 until then (or when it was refused)
    private long _maxPfn = -1;                    // largest p2m_end_pfn so far (Xen's max_pfn)
    private bool _staticAfterEndReported, _checkpointReported, _pagesAfterVcpuReported, _frameCheckOff;
    private long _vcpuIndex = -1;                 // first well-placed VCPU record of this checkpoint
    private RecordType _vcpuType;
    private bool _vcpu0Basic;
    private readonly FrameTable _frames = new();

    [Flags]
    private enum Need
    {
        None = 0,
        StaticDataEnd = 1,
        PvInfo = 2,
        P2mFrames = 4,
        PageData = 8,
        HvmParams = 16,
        HvmContext = 32,
    }

    /// <param name="domain">The domain header's type.</param>
    /// <param name="version">The stream version.</param>
    /// <param name="pageShift">The domain header's page shift.</param>
    /// <param name="littleEndian">The byte order of the records.</param>
    /// <param name="checkpointed">A checkpointed (Remus/COLO) stream, where CHECKPOINT records end each round.</param>
    public LayoutRules(DomainType domain, uint version, ushort pageShift, bool littleEndian, bool checkpointed = false)
    {
        _checkpointed = checkpointed;
        _domain = domain;
        _version = version;
        _pageShift = pageShift is >= 12 and <= 30 ? pageShift : 12;
        _le = littleEndian;
        _pageDataNeeds = Prerequisites(RecordType.PageData);
    }

    private readonly Need _pageDataNeeds;

    private bool IsPv => _domain == DomainType.X86Pv;

    /// <summary>X86_PV_INFO's guest width in octets (8 or 4); 0 before it, or when it was refused.</summary>
    internal int GuestWidth => _width;
    private bool IsHvm => _domain == DomainType.X86Hvm;

    private static bool IsVcpu(RecordType t) => t is RecordType.X86PvVcpuBasic or RecordType.X86PvVcpuExtended or RecordType.X86PvVcpuXsave or RecordType.X86PvVcpuMsrs;

    private static bool IsPvOnly(RecordType t) => t is RecordType.X86PvInfo or RecordType.X86PvP2mFrames or RecordType.SharedInfo || IsVcpu(t);

    private static bool IsHvmOnly(RecordType t) => t is RecordType.HvmContext or RecordType.HvmParams;

    /// <summary>Records a version 3 stream sends before STATIC_DATA_END (X86_PV_INFO may also follow it).</summary>
    private static bool IsStatic(RecordType t) => t is RecordType.X86PvInfo or RecordType.X86CpuidPolicy or RecordType.X86MsrPolicy;

    /// <summary>What must come before a record of type <paramref name="t"/>.</summary>
    private Need Prerequisites(RecordType t)
    {
        var need = _version >= 3 && !IsStatic(t) && t is not (RecordType.StaticDataEnd or RecordType.End or RecordType.Verify or RecordType.Checkpoint)
            ? Need.StaticDataEnd : Need.None;
        if (IsPv)
            need |= t switch
            {
                RecordType.X86PvP2mFrames or RecordType.SharedInfo => Need.PvInfo,
                RecordType.PageData => Need.PvInfo | Need.P2mFrames,
                _ when IsVcpu(t) => Need.PvInfo | Need.P2mFrames | Need.PageData,
                _ => Need.None,
            };
        if (IsHvm && t == RecordType.HvmContext) need |= Need.HvmParams;
        return need;
    }

    /// <summary>Checks one record (its octets: header, body, padding) against the records before it.</summary>
    public void Observe(ReadOnlySpan<byte> record, long index, long offset, FgValidation into)
        => Observe(record, Record.PeekType(record, _le), Record.PeekBodyLength(record, _le), index, offset, into);

    /// <summary><see cref="Observe(ReadOnlySpan{byte}, long, long, FgValidation)"/> of a record whose type and body length the caller has read.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void Observe(ReadOnlySpan<byte> record, RecordType type, uint bodyLengthField, long index, long offset, FgValidation into)
    {
        // Most records are PAGE_DATA after all they depend on: what the rules do for them, directly,
        // in the caller (the rest of the rules are a large method with a frame to set up).
        if (type == RecordType.PageData && (_pageDataNeeds & ~_seen) == Need.None)
        {
            if (IsPv) ObservePvPages(record.Slice(Math.Min(record.Length, Record.Layout.BodyOffset)), new Place(into, index, type), offset, misplaced: false);
            _seen |= Need.PageData;
            return;
        }
        ObserveInOrder(record, type, bodyLengthField, index, offset, into);
    }

    private void ObserveInOrder(ReadOnlySpan<byte> record, RecordType type, uint bodyLengthField, long index, long offset, FgValidation into)
    {
        var body = record.Slice(Math.Min(record.Length, Record.Layout.BodyOffset));
        int bodyLength = (int)Math.Min(bodyLengthField, int.MaxValue);
        var at = new Place(into, index, type);

        // Records the grammar refuses outright take no part in the order.
        if (type.KsyName() is null || type is RecordType.Toolstack or RecordType.CheckpointDirtyPfnList) return;
        if (_version < 3 && type > RecordType.CheckpointDirtyPfnList) return;

        if (IsPv && IsHvmOnly(type))
        {
            at.Fail("layout-hvm-record-in-pv", "type", offset, "no HVM records in an x86 PV stream", RecordNames.Of(type), "Xen's PV restore does not handle " + RecordNames.Of(type) + ".");
            return;
        }
        if (IsHvm && IsPvOnly(type))
        {
            at.Fail("layout-pv-record-in-hvm", "type", offset, "no PV records in an x86 HVM stream", RecordNames.Of(type), "Xen's HVM restore does not handle " + RecordNames.Of(type) + ".");
            return;
        }
        if (type == RecordType.Checkpoint)
        {
            if (!_checkpointReported && !_checkpointed)
                at.Fail("layout-checkpoint-in-plain-stream", "type", offset, "CHECKPOINT only in a checkpointed (Remus/COLO) stream", "CHECKPOINT",
                    "Xen's restore of a plain stream refuses CHECKPOINT records.");
            _checkpointReported = true;
            _vcpuIndex = -1;
            _pagesAfterVcpuReported = false;
            return;
        }

        // Order: what this record needs before it, each missing record reported once.
        var needs = Prerequisites(type);
        var missing = needs & ~_seen & ~_reported;
        bool misplaced = (needs & ~_seen) != Need.None;
        if (missing != Need.None)
        {
            at.Fail(RuleOf(missing), "type", offset, Names(missing) + " before " + RecordNames.Of(type), RecordNames.Of(type) + " first",
                RecordNames.Of(type) + " depends on " + Names(missing) + ".");
            _reported |= missing;
        }

        switch (type)
        {
            case RecordType.StaticDataEnd:
                if ((_seen & Need.StaticDataEnd) != 0)
                    at.Fail("layout-static-data-end-repeated", "type", offset, "STATIC_DATA_END at most once", "a second one", "Xen's restore refuses a second STATIC_DATA_END.");
                _seen |= Need.StaticDataEnd;
                break;
            case RecordType.X86CpuidPolicy or RecordType.X86MsrPolicy:
                if (_version >= 3 && (_seen & Need.StaticDataEnd) != 0 && !_staticAfterEndReported)
                {
                    at.Fail("layout-static-after-end", "type", offset, RecordNames.Of(type) + " before STATIC_DATA_END", "it after STATIC_DATA_END",
                        "Xen's restore applies the CPU policy at STATIC_DATA_END and ignores a policy that comes later.");
                    _staticAfterEndReported = true;
                }
                break;
            case RecordType.X86PvInfo when IsPv:
                ObservePvInfo(body, at, offset);
                break;
            case RecordType.X86PvP2mFrames when IsPv:
                ObserveP2mFrames(body, bodyLength, at, offset, misplaced);
                _seen |= Need.P2mFrames;
                break;
            case RecordType.PageData:
                if (IsPv) ObservePvPages(body, at, offset, misplaced);
                _seen |= Need.PageData;
                break;
            case RecordType.HvmParams:
                _seen |= Need.HvmParams;
                break;
            case RecordType.HvmContext:
                _seen |= Need.HvmContext;
                if (IsHvm) ObserveVcpuState(body, bodyLength, offset + Record.Layout.BodyOffset, at, static blob => Hvm.HvmContext.Validate(blob), "HVM_CONTEXT");
                break;
            case var v when IsVcpu(v) && IsPv:
                ObserveVcpu(type, body, bodyLength, index, at, offset, misplaced);
                break;
        }
    }

    private void ObservePvInfo(ReadOnlySpan<byte> body, Place at, long offset)
    {
        if ((_seen & Need.PvInfo) != 0)
        {
            at.Fail("layout-pv-info-repeated", "type", offset, "X86_PV_INFO once", "a second one", "Xen's restore refuses a second X86_PV_INFO.");
            return;
        }
        _seen |= Need.PvInfo;
        if (body.Length < X86PvInfo.Layout.Reserved1Offset) return;
        int width = X86PvInfo.PeekGuestWidth(body, _le), levels = X86PvInfo.PeekPtLevels(body, _le);
        // A width or level the grammar refused leaves the width unknown: nothing depends on it.
        if ((width, levels) is (4, 3) or (8, 4)) _width = width;
    }

    /// <summary>The pfns one P2M frame maps: a page of 4- or 8-octet entries, by guest width.</summary>
    private long PfnsPerFrame(int width) => (1L << _pageShift) / width;

    private void ObserveP2mFrames(ReadOnlySpan<byte> body, int bodyLength, Place at, long offset, bool misplaced)
    {
        if (body.Length < X86PvP2mFrames.Layout.P2mPfnsOffset) return;
        long start = X86PvP2mFrames.PeekP2mStartPfn(body, _le), end = X86PvP2mFrames.PeekP2mEndPfn(body, _le);
        if (end < start) return; // the grammar's p2m-frames-range
        long count = (Math.Min(bodyLength, body.Length) - X86PvP2mFrames.Layout.P2mPfnsOffset) / sizeof(ulong);
        long Frames(int w) => end / PfnsPerFrame(w) - start / PfnsPerFrame(w) + 1;
        if (_width != 0 && count != Frames(_width))
        {
            // Frames for the other width: the grammar accepts either, X86_PV_INFO decides. Neither: the grammar said so.
            int other = _width == 8 ? 4 : 8;
            if (count == Frames(other))
                at.Fail("p2m-frames-width", "body.p2m_pfns", offset + Record.Layout.BodyOffset + X86PvP2mFrames.Layout.P2mPfnsOffset,
                    string.Create(CultureInfo.InvariantCulture, $"for pfns {start} to {end} of a {_width * 8}-bit guest, a frame count of {Frames(_width)}"),
                    string.Create(CultureInfo.InvariantCulture, $"{count}, the count of a {other * 8}-bit guest"),
                    "X86_PV_INFO gives the guest width, which fixes how many pfns each frame holds.");
            _frameCheckOff = true;
            _maxPfn = Math.Max(_maxPfn, end);
            return;
        }
        if (_maxPfn < 0 && end == 0)
            at.Fail("p2m-frames-end-zero", "body.p2m_end_pfn", offset + Record.Layout.BodyOffset + X86PvP2mFrames.Layout.P2mEndPfnOffset, "p2m_end_pfn of at least 1", "0",
                "Xen's restore cannot take a first P2M of a single pfn (its frame list is never allocated).");
        _maxPfn = Math.Max(_maxPfn, end);
        if (misplaced || _width == 0) { _frameCheckOff = true; return; }
        long perFrame = PfnsPerFrame(_width);
        var frames = body.Slice(X86PvP2mFrames.Layout.P2mPfnsOffset);
        for (long i = 0; i < count && (i + 1) * sizeof(ulong) <= frames.Length; i++)
        {
            var raw = frames.Slice((int)(i * sizeof(ulong)), sizeof(ulong));
            // A frame named after pages were sent may have been sent before: what it was is not known.
            _frames.SetFrame(start / perFrame + i, _le ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(raw) : System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(raw),
                sentBefore: (_seen & Need.PageData) != 0);
        }
    }

    private void ObservePvPages(ReadOnlySpan<byte> body, Place at, long offset, bool misplaced)
    {
        if (misplaced || _maxPfn < 0)
        {
            // Pages before the P2M: their range is unknown and frames they carry cannot be followed.
            _frameCheckOff = true;
        }
        if (_vcpuIndex >= 0 && !_pagesAfterVcpuReported)
        {
            at.Fail("layout-pages-after-vcpu", "type", offset, "PAGE_DATA before the VCPU records",
                string.Create(CultureInfo.InvariantCulture, $"it after {RecordNames.Of(_vcpuType)} (record {_vcpuIndex})"),
                "VCPU context refers to memory, so all of a checkpoint's memory precedes its VCPU records.");
            _pagesAfterVcpuReported = true;
        }
        if (body.Length < PageData.Layout.PfnsOffset) return;
        long count = PageData.PeekCount(body, _le);
        int n = (int)Math.Min(count, (body.Length - PageData.Layout.PfnsOffset) / PfnEntry.Layout.Size);
        var entries = body.Slice(PageData.Layout.PfnsOffset, n * PfnEntry.Layout.Size);
        // One quick pass for the range of pfns; entry by entry only where it matters.
        ulong lowest, highest;
        if (n == 1) lowest = highest = Entry(entries, 0).Pfn;
        else (lowest, highest) = PfnRange(entries);
        if (_maxPfn >= 0 && highest > (ulong)_maxPfn) ReportOutOfRange(entries, at, offset);
        if (!_frameCheckOff && _frames.Intersects(lowest, highest))
            for (int i = 0; i < n; i++)
            {
                var e = Entry(entries, i);
                if (_maxPfn < 0 || e.Pfn <= (ulong)_maxPfn) _frames.Sent(e.Pfn, e.Type);
            }
    }

    /// <summary>The pfn field's bits, as the grammar defines them.</summary>
    private static readonly ulong PfnMask = new PfnEntry { Raw = ulong.MaxValue }.Pfn;

    private PfnEntry Entry(ReadOnlySpan<byte> entries, int i) => new() { Raw = PfnEntry.PeekRaw(entries.Slice(i * PfnEntry.Layout.Size), _le) };

    /// <summary>The lowest and highest pfn of a PAGE_DATA record's entries (vectorised when the byte order is the machine's).</summary>
    /// <remarks>Compiled optimised at once: unoptimised, vector code costs a call per operation.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private (ulong Lowest, ulong Highest) PfnRange(ReadOnlySpan<byte> entries)
    {
        ulong lo = ulong.MaxValue, hi = 0;
        int i = 0;
        if (_le == BitConverter.IsLittleEndian && PfnEntry.Layout.Size == sizeof(ulong))
        {
            var raw = MemoryMarshal.Cast<byte, ulong>(entries);
            if (Vector.IsHardwareAccelerated && raw.Length >= Vector<ulong>.Count)
            {
                var mask = new Vector<ulong>(PfnMask);
                Vector<ulong> vlo = new(ulong.MaxValue), vhi = Vector<ulong>.Zero;
                for (; i + Vector<ulong>.Count <= raw.Length; i += Vector<ulong>.Count)
                {
                    var v = new Vector<ulong>(raw.Slice(i)) & mask;
                    vlo = Vector.Min(vlo, v);
                    vhi = Vector.Max(vhi, v);
                }
                for (int k = 0; k < Vector<ulong>.Count; k++)
                {
                    lo = Math.Min(lo, vlo[k]);
                    hi = Math.Max(hi, vhi[k]);
                }
            }
            for (; i < raw.Length; i++)
            {
                ulong pfn = raw[i] & PfnMask;
                lo = Math.Min(lo, pfn);
                hi = Math.Max(hi, pfn);
            }
            return (lo, hi);
        }
        int n = entries.Length / PfnEntry.Layout.Size;
        for (; i < n; i++)
        {
            ulong pfn = Entry(entries, i).Pfn;
            lo = Math.Min(lo, pfn);
            hi = Math.Max(hi, pfn);
        }
        return (lo, hi);
    }

    private void ReportOutOfRange(ReadOnlySpan<byte> entries, Place at, long offset)
    {
        int n = entries.Length / PfnEntry.Layout.Size, first = -1, bad = 0;
        for (int i = 0; i < n; i++)
            if (Entry(entries, i).Pfn > (ulong)_maxPfn && bad++ == 0) first = i;
        at.Fail("page-data-pfn-range", string.Create(CultureInfo.InvariantCulture, $"body.pfns[{first}]"),
            offset + Record.Layout.BodyOffset + PageData.Layout.PfnsOffset + (long)first * PfnEntry.Layout.Size,
            string.Create(CultureInfo.InvariantCulture, $"pfns up to {_maxPfn} (p2m_end_pfn)"),
            string.Create(CultureInfo.InvariantCulture, $"pfn {Entry(entries, first).Pfn}") + (bad > 1 ? string.Create(CultureInfo.InvariantCulture, $" and {bad - 1} more") : ""),
            "Xen's restore refuses pfns beyond the P2M that X86_PV_P2M_FRAMES describes.");
    }

    private void ObserveVcpu(RecordType type, ReadOnlySpan<byte> body, int bodyLength, long index, Place at, long offset, bool misplaced)
    {
        if (!misplaced && _vcpuIndex < 0) { _vcpuIndex = index; _vcpuType = type; }
        if (body.Length < VcpuContext.Layout.ContextOffset)
        {
            // Too short to say whose it is (the grammar said so): it may be vcpu 0's.
            if (type == RecordType.X86PvVcpuBasic) _vcpu0Basic = true;
            return;
        }
        long context = bodyLength - VcpuContext.Layout.ContextOffset;
        if (context == 0) return; // the errata: tolerated, skipped by Xen
        if (type != RecordType.X86PvVcpuBasic) return;
        if (VcpuContext.PeekVcpuId(body, _le) == 0) _vcpu0Basic = true;
        if (_width == 0) return;
        long want = _width == 8 ? 5168 : 2800, other = _width == 8 ? 2800 : 5168; // sizeof(vcpu_guest_context) for x86_64, x86_32
        if (context == other)
            at.Fail("vcpu-basic-width", "body.vcpu.context", offset + Record.Layout.BodyOffset + VcpuContext.Layout.ContextOffset,
                string.Create(CultureInfo.InvariantCulture, $"a context of {want} octets for a {_width * 8}-bit guest"),
                string.Create(CultureInfo.InvariantCulture, $"{context} octets, the context of a {(_width == 8 ? 32 : 64)}-bit guest"),
                "X86_PV_INFO gives the guest width, which fixes the size of vcpu_guest_context.");
        // A context of the width's size: what it holds (a wrong size the grammar or the rule above reported).
        else if (context == want)
        {
            byte width = (byte)_width;
            ObserveVcpuState(body.Slice(VcpuContext.Layout.ContextOffset), (int)want, offset + Record.Layout.BodyOffset + VcpuContext.Layout.ContextOffset, at, blob => Pv.PvVcpu.Validate(blob, width), "vcpu_guest_context");
        }
    }

    /// <summary>Rules checked once the END record has been read.</summary>
    public void Finish(long index, long offset, FgValidation into)
    {
        var at = new Place(into, index, RecordType.End);
        var required = _version >= 3 ? Need.StaticDataEnd : Need.None;
        if (IsPv) required |= Need.PvInfo | Need.P2mFrames | Need.PageData;
        if (IsHvm) required |= Need.HvmContext;
        var missing = required & ~_seen & ~_reported;
        var what = new List<string>();
        if (missing != Need.None) what.Add(Names(missing));
        bool noVcpu0 = IsPv && !_vcpu0Basic;
        if (noVcpu0) what.Add("X86_PV_VCPU_BASIC for vcpu 0");
        if (what.Count > 0)
        {
            // Everything the stream lacks, as one error: a stream cut short is one mistake.
            at.Fail(missing != Need.None ? RuleOf(missing) : "pv-vcpu0-basic-missing", "type", offset,
                string.Join(" and ", what) + " before END", "END first",
                missing == Need.None ? "Xen's restore needs vcpu 0's basic state." : "The stream ends without records a restore of this guest needs.");
            _reported |= missing;
            return;
        }
        // The frames were not followed, or their records were already reported: nothing more to say of them.
        if (IsPv && !_frameCheckOff && (_reported & (Need.PvInfo | Need.P2mFrames | Need.PageData)) == 0 && _width != 0) CheckFrames(at, offset);
    }

    /// <summary>Xen's restore writes the rebuilt P2M into the frames: each must have been sent last as a normal page.</summary>
    private void CheckFrames(Place at, long offset)
    {
        long slots = _maxPfn / PfnsPerFrame(_width) + 1;
        long gaps = 0, firstGap = -1;
        long bad = 0, firstSlot = -1;
        ulong firstPfn = 0;
        PageType? firstType = null;
        for (long slot = 0; slot < slots; slot++)
        {
            if (!_frames.TryGetFrame(slot, out var pfn, out var last))
            {
                if (gaps++ == 0) firstGap = slot;
                continue;
            }
            if (last == FrameTable.Unknown || (last == (byte)PageType.Notab && pfn <= (ulong)_maxPfn)) continue;
            if (bad++ == 0) { firstSlot = slot; firstPfn = pfn; firstType = last == FrameTable.NeverSent ? null : (PageType)last; }
        }
        if (gaps > 0)
        {
            long per = PfnsPerFrame(_width);
            at.Fail("p2m-frames-gap", "type", offset,
                string.Create(CultureInfo.InvariantCulture, $"X86_PV_P2M_FRAMES frames for every pfn up to {_maxPfn}"),
                string.Create(CultureInfo.InvariantCulture, $"no frame for pfns {firstGap * per} to {firstGap * per + per - 1}") + (gaps > 1 ? string.Create(CultureInfo.InvariantCulture, $" and {gaps - 1} more frame(s)") : ""),
                "Xen's restore rebuilds the whole P2M into the frames X86_PV_P2M_FRAMES names.");
            return;
        }
        if (bad > 0)
            at.Fail("p2m-frames-normal", "type", offset,
                "every P2M frame sent in PAGE_DATA, last as a normal (NOTAB) page",
                string.Create(CultureInfo.InvariantCulture, $"frame {firstSlot} (pfn {firstPfn}) ")
                    + (firstPfn > (ulong)_maxPfn ? "beyond the P2M" : firstType is { } t ? "last sent as " + RecordNames.Upper(t.KsyName(), (long)t) : "never sent")
                    + (bad > 1 ? string.Create(CultureInfo.InvariantCulture, $", and {bad - 1} more frame(s)") : ""),
                "Xen's restore writes the guest's P2M into these pages, which must be ordinary memory.");
    }

    private static string RuleOf(Need missing)
    {
        // The most basic missing record names the rule.
        if ((missing & Need.StaticDataEnd) != 0) return "layout-static-data-end-missing";
        if ((missing & Need.PvInfo) != 0) return "layout-pv-info-missing";
        if ((missing & Need.P2mFrames) != 0) return "layout-p2m-frames-missing";
        if ((missing & Need.PageData) != 0) return "layout-page-data-missing";
        if ((missing & Need.HvmParams) != 0) return "layout-hvm-params-missing";
        return "layout-hvm-context-missing";
    }

    private static string Names(Need n)
    {
        var list = new List<string>();
        if ((n & Need.StaticDataEnd) != 0) list.Add("STATIC_DATA_END");
        if ((n & Need.PvInfo) != 0) list.Add("X86_PV_INFO");
        if ((n & Need.P2mFrames) != 0) list.Add("X86_PV_P2M_FRAMES");
        if ((n & Need.PageData) != 0) list.Add("PAGE_DATA");
        if ((n & Need.HvmParams) != 0) list.Add("HVM_PARAMS");
        if ((n & Need.HvmContext) != 0) list.Add("HVM_CONTEXT");
        return list.Count == 1 ? list[0] : string.Join(", ", list.GetRange(0, list.Count - 1)) + " and " + list[^1];
    }

    /// <summary>Where a rule is broken: the record, for each violation.</summary>
    private readonly struct Place(FgValidation into, long index, RecordType type)
    {
        public void Fail(string rule, string field, long at, string expected, string found, string description)
            => Add(rule, FgSeverity.Error, field, at, expected, found, description);

        public void Warn(string rule, string field, long at, string expected, string found, string description)
            => Add(rule, FgSeverity.Warning, field, at, expected, found, description);

        private void Add(string rule, FgSeverity severity, string field, long at, string expected, string found, string description)
            => into.Add(new FgViolation(rule, severity, field, at, expected, found, description)
            {
                RecordIndex = index,
                RecordName = RecordNames.Of(type),
            });
    }

    /// <summary>A vCPU grammar's validator, over the blob's octets.</summary>
    private delegate IReadOnlyList<FgViolation> BlobCheck(ReadOnlySpan<byte> blob);

    /// <summary>
    /// The most vCPU state read (HVM_CONTEXT is a few KiB a vCPU: 2 MiB is hundreds of them); a larger
    /// blob is passed over unread, as octets no rule reads (a pipe's check does not buffer it).
    /// </summary>
    internal const int MaxVcpuState = 2 << 20;

    /// <summary>
    /// The vCPU state a record carries, read with its grammar (hvm_context.ksy, pv_vcpu.ksy): the
    /// stream carries it as the hypervisor gave it, so what does not decode is a warning, never an
    /// error, one for the blob however much of it is wrong. Only a blob at hand whole is read (a
    /// check of a pipe may have passed over its octets).
    /// </summary>
    private static void ObserveVcpuState(ReadOnlySpan<byte> blob, int length, long at, Place place, BlobCheck validate, string what)
    {
        if (blob.Length < length || length > MaxVcpuState) return;
        FgViolation? first = null;
        int errors = 0;
        foreach (var v in validate(blob.Slice(0, length)))
            if (v.Severity == FgSeverity.Error && errors++ == 0) first = v;
        if (first is null) return;
        place.Warn("vcpu-state-undecodable", "body", at + first.Offset, "the hypervisor's layout of " + what,
            first.FieldPath + ": expected " + first.Expected + ", found " + first.Actual + " (" + first.Rule + ")" + (errors > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {errors - 1} more)") : ""),
            "The stream carries the hypervisor's vCPU state as it was given; it does not decode as the hypervisor lays it out, so its registers cannot be read (Xen's restore hands it to the hypervisor, which may refuse it). The rest of the stream is unaffected.");
    }

    /// <summary>
    /// The P2M frame list (frame slot to pfn) and the last page type sent for
    /// each frame. Memory follows the frames the stream names (in chunks of
    /// slots), not the pfn range it claims; a PAGE_DATA record is looked at
    /// entry by entry only when its pfn range holds a frame.
    /// </summary>
    private sealed class FrameTable
    {
        /// <summary>States of a slot besides a page type (0-15).</summary>
        public const byte NotGiven = 0xff, NeverSent = 0xfe, Unknown = 0xfd;

        private const int ChunkBits = 12, ChunkSize = 1 << ChunkBits;
        private readonly Dictionary<long, (ulong[] Pfn, byte[] Last)> _chunks = new();
        private ulong[]? _sortedPfn;   // the frames' pfns in order, and their slots: rebuilt after a change
        private long[]? _sortedSlot;

        public void SetFrame(long slot, ulong pfn, bool sentBefore)
        {
            if (!_chunks.TryGetValue(slot >> ChunkBits, out var chunk))
            {
                chunk = (new ulong[ChunkSize], new byte[ChunkSize]);
                Array.Fill(chunk.Last, NotGiven);
                _chunks[slot >> ChunkBits] = chunk;
            }
            int i = (int)(slot & (ChunkSize - 1));
            chunk.Pfn[i] = pfn;
            chunk.Last[i] = sentBefore ? Unknown : NeverSent;
            _sortedPfn = null;
        }

        public bool TryGetFrame(long slot, out ulong pfn, out byte last)
        {
            pfn = 0;
            last = NotGiven;
            if (!_chunks.TryGetValue(slot >> ChunkBits, out var chunk)) return false;
            int i = (int)(slot & (ChunkSize - 1));
            (pfn, last) = (chunk.Pfn[i], chunk.Last[i]);
            return last != NotGiven;
        }

        /// <summary>Whether any frame pfn lies in [<paramref name="lowest"/>, <paramref name="highest"/>].</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public bool Intersects(ulong lowest, ulong highest)
            // Pages come mostly in order: the gap between two frames the last answer fell in answers most questions.
            => !(_gapOf is not null && ReferenceEquals(_gapOf, _sortedPfn) && lowest >= _gapFrom && highest < _gapTo) && Search(lowest, highest);

        private bool Search(ulong lowest, ulong highest)
        {
            if (_chunks.Count == 0 || lowest > highest) return false;
            var sorted = Sorted();
            int i = LowerBound(sorted, lowest);
            if (i < sorted.Length && sorted[i] <= highest) return true;
            _gapOf = sorted;
            _gapFrom = i > 0 ? sorted[i - 1] + 1 : 0;
            _gapTo = i < sorted.Length ? sorted[i] : ulong.MaxValue;
            return false;
        }

        // No frame's pfn lies in [_gapFrom, _gapTo) of _gapOf, the sorted pfns it was found in.
        private ulong[]? _gapOf;
        private ulong _gapFrom, _gapTo;

        /// <summary>A page was sent: each slot naming its pfn remembers the type.</summary>
        public void Sent(ulong pfn, PageType type)
        {
            var sorted = Sorted();
            for (int i = LowerBound(sorted, pfn); i < sorted.Length && sorted[i] == pfn; i++)
            {
                long slot = _sortedSlot![i];
                _chunks[slot >> ChunkBits].Last[(int)(slot & (ChunkSize - 1))] = (byte)type;
            }
        }

        private ulong[] Sorted()
        {
            if (_sortedPfn is not null) return _sortedPfn;
            var pfns = new List<ulong>();
            var slots = new List<long>();
            foreach (var (key, chunk) in _chunks)
                for (int i = 0; i < ChunkSize; i++)
                    if (chunk.Last[i] != NotGiven)
                    {
                        pfns.Add(chunk.Pfn[i]);
                        slots.Add((key << ChunkBits) + i);
                    }
            _sortedPfn = pfns.ToArray();
            _sortedSlot = slots.ToArray();
            Array.Sort(_sortedPfn, _sortedSlot);
            return _sortedPfn;
        }

        private static int LowerBound(ulong[] sorted, ulong value)
        {
            int lo = 0, hi = sorted.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (sorted[mid] < value) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }
}
