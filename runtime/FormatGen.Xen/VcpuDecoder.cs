using System;
using System.Collections.Generic;
using FormatGen.Runtime;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>vCPU registers out of HVM_CONTEXT (its CPU save records) and X86_PV_VCPU_BASIC (a vcpu_guest_context).</summary>
internal static class VcpuDecoder
{
    public static IEnumerable<VcpuRegisters> Decode(RecordType type, ReadOnlySpan<byte> body, bool littleEndian, LibxcReader libxc, long offset, List<FgViolation> violations)
    {
        return Array.Empty<VcpuRegisters>();
    }
}
