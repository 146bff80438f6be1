using System.Collections.Generic;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>
/// The stream-level rules of a libxc image (xen-formats.md, "Layout rules"):
/// which records depend on which, per guest type and stream version. Record
/// layouts and per-record rules live in the grammar; this class only knows
/// record order.
/// </summary>
public sealed class LayoutRules
{
    private readonly DomainType _domain;
    private readonly uint _version;
    private bool _pvInfo, _p2mFrames, _pageData, _hvmParams, _staticDataEnd;

    public LayoutRules(DomainType domain, uint version)
    {
        _domain = domain;
        _version = version;
    }

    private bool IsPv => _domain == DomainType.X86Pv;
    private bool IsHvm => _domain == DomainType.X86Hvm;

    private static bool IsVcpu(RecordType t) => t is RecordType.X86PvVcpuBasic or RecordType.X86PvVcpuExtended or RecordType.X86PvVcpuXsave or RecordType.X86PvVcpuMsrs;

    private static bool IsPvOnly(RecordType t) => t is RecordType.X86PvInfo or RecordType.X86PvP2mFrames || IsVcpu(t);

    private static bool IsHvmOnly(RecordType t) => t is RecordType.HvmContext or RecordType.HvmParams;

    /// <summary>Static data a version 3 stream sends before STATIC_DATA_END.</summary>
    private static bool IsStatic(RecordType t) => t is RecordType.X86PvInfo or RecordType.X86CpuidPolicy or RecordType.X86MsrPolicy;

    /// <summary>Checks one record against the records before it; adds what it breaks.</summary>
    public void Observe(RecordType type, long index, long offset, FgValidation into)
    {
        void Fail(string rule, string expected, string description, FgSeverity severity = FgSeverity.Error)
            => into.Add(new FgViolation(rule, severity, "type", offset, expected, RecordNames.Of(type), description)
            {
                RecordIndex = index,
                RecordName = RecordNames.Of(type),
            });

        if (IsPv && IsHvmOnly(type)) Fail("layout-hvm-record-in-pv", "no HVM records in an x86 PV image", "An HVM record in a PV image.");
        if (IsHvm && IsPvOnly(type)) Fail("layout-pv-record-in-hvm", "no PV records in an x86 HVM image", "A PV record in an HVM image.");

        if (_version >= 3)
        {
            if (type == RecordType.StaticDataEnd)
            {
                if (_staticDataEnd) Fail("layout-static-data-end-repeated", "STATIC_DATA_END at most once", "STATIC_DATA_END appears again.");
                _staticDataEnd = true;
            }
            else if (IsStatic(type))
            {
                if (_staticDataEnd && type != RecordType.X86PvInfo)
                    Fail("layout-static-after-end", "CPUID/MSR policy before STATIC_DATA_END", "Static data after STATIC_DATA_END.");
            }
            else if (!_staticDataEnd && type is not (RecordType.End or RecordType.Verify) && ((ulong)type & 0x80000000UL) == 0)
            {
                Fail("layout-static-data-end-missing", "STATIC_DATA_END before memory or register content",
                    "A version 3 stream must send STATIC_DATA_END before any memory or register content.");
                _staticDataEnd = true; // report once
            }
        }

        if (IsPv)
        {
            switch (type)
            {
                case RecordType.X86PvInfo:
                    _pvInfo = true;
                    break;
                case RecordType.X86PvP2mFrames:
                    if (!_pvInfo) Fail("layout-pv-info-first", "X86_PV_INFO before X86_PV_P2M_FRAMES", "X86_PV_P2M_FRAMES needs the guest width from X86_PV_INFO.");
                    _p2mFrames = true;
                    break;
                case RecordType.PageData:
                    if (!_p2mFrames) Fail("layout-p2m-before-pages", "X86_PV_P2M_FRAMES before PAGE_DATA", "PAGE_DATA of a PV guest needs the P2M frames first.");
                    _pageData = true;
                    break;
                default:
                    if (IsVcpu(type) && !_pageData)
                        Fail("layout-pages-before-vcpu", "PAGE_DATA before X86_PV_VCPU_* records", "VCPU context refers to memory that has not been sent.");
                    break;
            }
        }
        if (IsHvm)
        {
            if (type == RecordType.HvmParams) _hvmParams = true;
            if (type == RecordType.HvmContext && !_hvmParams)
                Fail("layout-hvm-params-before-context", "HVM_PARAMS before HVM_CONTEXT", "Certain parameters affect the validity of the HVM context.");
        }
    }

    /// <summary>Rules checked once the END record has been read.</summary>
    public void Finish(long index, long offset, FgValidation into)
    {
        if (_version >= 3 && !_staticDataEnd)
            into.Add(new FgViolation("layout-static-data-end-missing", FgSeverity.Error, "type", offset, "STATIC_DATA_END in a version 3 stream", "none", "A version 3 stream has no STATIC_DATA_END.")
            { RecordIndex = index, RecordName = "END" });
    }
}
