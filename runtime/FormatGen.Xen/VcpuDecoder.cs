using System;
using System.Collections.Generic;
using System.Globalization;
using FormatGen.Runtime;
using FormatGen.Xen.Hvm;
using HvmContext = FormatGen.Xen.Hvm.HvmContext;
using FormatGen.Xen.Libxc;
using FormatGen.Xen.Pv;

namespace FormatGen.Xen;

/// <summary>
/// vCPU registers out of the records that carry them: HVM_CONTEXT (its CPU save
/// records, hvm_context.ksy) and X86_PV_VCPU_BASIC (a vcpu_guest_context,
/// pv_vcpu.ksy, of the width X86_PV_INFO gave). The stream treats these blobs as
/// opaque (they are the hypervisor's, and change with it): one that does not
/// decode is a warning, never an error.
/// </summary>
public static class VcpuDecoder
{
    /// <summary>The source of registers read from an HVM CPU save record.</summary>
    public const string HvmSource = "HVM CPU record";

    /// <summary>
    /// The registers a record's body holds (the libxc record's body, after its 8-octet header):
    /// one per CPU save record of an HVM_CONTEXT, one for an X86_PV_VCPU_BASIC, none for other
    /// records. <paramref name="guestWidth"/> is X86_PV_INFO's (8 or 4; 0 when unknown, taken as 8).
    /// A blob that does not decode adds a warning to <paramref name="warnings"/> at <paramref name="offset"/>.
    /// </summary>
    public static IReadOnlyList<VcpuRegisters> Decode(RecordType type, ReadOnlySpan<byte> body, bool littleEndian, int guestWidth, long offset, ICollection<FgViolation> warnings)
    {
        ArgumentNullException.ThrowIfNull(warnings);
        try
        {
            return type switch
            {
                RecordType.HvmContext => FromHvmContext(HvmContext.Read(body.ToArray())),
                RecordType.X86PvVcpuBasic => FromPv(body, littleEndian, guestWidth, offset, warnings),
                _ => Array.Empty<VcpuRegisters>(),
            };
        }
        catch (FgException e)
        {
            warnings.Add(Undecodable(type, offset, e.Format()));
            return Array.Empty<VcpuRegisters>();
        }
    }

    /// <summary>The registers of each CPU save record of an HVM context.</summary>
    public static IReadOnlyList<VcpuRegisters> FromHvmContext(HvmContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var list = new List<VcpuRegisters>();
        foreach (var record in context.Records)
            if (record.Body is Cpu c) list.Add(FromCpu(record.Instance, c));
        return list;
    }

    /// <summary>The registers of one CPU save record (its instance is the vCPU).</summary>
    private static VcpuRegisters FromCpu(ushort instance, Cpu c) => new()
        {
            Id = instance,
            Rax = c.Rax, Rbx = c.Rbx, Rcx = c.Rcx, Rdx = c.Rdx, Rsi = c.Rsi, Rdi = c.Rdi, Rbp = c.Rbp, Rsp = c.Rsp,
            R8 = c.R8, R9 = c.R9, R10 = c.R10, R11 = c.R11, R12 = c.R12, R13 = c.R13, R14 = c.R14, R15 = c.R15,
            Rip = c.Rip, Rflags = c.Rflags,
            Cs = (ushort)c.CsSel, Ss = (ushort)c.SsSel, Ds = (ushort)c.DsSel, Es = (ushort)c.EsSel, Fs = (ushort)c.FsSel, Gs = (ushort)c.GsSel,
            FsBase = c.FsBase, GsBase = c.GsBase,
            Cr0 = c.Cr0, Cr2 = c.Cr2, Cr3 = c.Cr3, Cr4 = c.Cr4,
            Fpu = c.FpuRegs,
            Source = HvmSource,
        };

    private static IReadOnlyList<VcpuRegisters> FromPv(ReadOnlySpan<byte> body, bool littleEndian, int guestWidth, long offset, ICollection<FgViolation> warnings)
    {
        if (body.Length < VcpuContext.Layout.ContextOffset)
        {
            warnings.Add(Undecodable(RecordType.X86PvVcpuBasic, offset, string.Create(CultureInfo.InvariantCulture, $"a body of {body.Length} octets holds no vcpu_id and context")));
            return Array.Empty<VcpuRegisters>();
        }
        var (id, width, registers) = ReadPv(body, littleEndian, guestWidth);
        if (registers is null)
        {
            warnings.Add(Undecodable(RecordType.X86PvVcpuBasic, offset, string.Create(CultureInfo.InvariantCulture,
                $"vcpu {id}: a context of {body.Length - VcpuContext.Layout.ContextOffset} octets is too short for a {width * 8}-bit guest's vcpu_guest_context")));
            return Array.Empty<VcpuRegisters>();
        }
        return [registers];
    }

    /// <summary>
    /// An X86_PV_VCPU_BASIC body that holds its vcpu_id: the vcpu, the width its context is read
    /// with (X86_PV_INFO's; 8 when unknown), and the registers (null: too short for that width).
    /// </summary>
    private static (uint Id, byte Width, VcpuRegisters? Registers) ReadPv(ReadOnlySpan<byte> body, bool littleEndian, int guestWidth)
    {
        uint id = VcpuContext.PeekVcpuId(body, littleEndian);
        byte width = guestWidth == 4 ? (byte)4 : (byte)8;
        return (id, width, FromPvContext(id, PvVcpu.Read(body.Slice(VcpuContext.Layout.ContextOffset).ToArray(), width).Context));
    }

    /// <summary>The registers of a PV vcpu_guest_context (null when it did not decode: too short for its width).</summary>
    public static VcpuRegisters? FromPvContext(uint id, IPvVcpuContext context) => context switch
    {
        VcpuGuestContext64 c => new VcpuRegisters
        {
            Id = id,
            Rax = c.UserRegs.Rax, Rbx = c.UserRegs.Rbx, Rcx = c.UserRegs.Rcx, Rdx = c.UserRegs.Rdx, Rsi = c.UserRegs.Rsi, Rdi = c.UserRegs.Rdi,
            Rbp = c.UserRegs.Rbp, Rsp = c.UserRegs.Rsp,
            R8 = c.UserRegs.R8, R9 = c.UserRegs.R9, R10 = c.UserRegs.R10, R11 = c.UserRegs.R11, R12 = c.UserRegs.R12, R13 = c.UserRegs.R13, R14 = c.UserRegs.R14, R15 = c.UserRegs.R15,
            Rip = c.UserRegs.Rip, Rflags = c.UserRegs.Rflags,
            Cs = c.UserRegs.Cs, Ss = c.UserRegs.Ss, Ds = c.UserRegs.Ds, Es = c.UserRegs.Es, Fs = c.UserRegs.Fs, Gs = c.UserRegs.Gs,
            // The kernel's GS base is the one in effect (a PV vcpu is saved in the kernel).
            FsBase = c.FsBase, GsBase = c.GsBaseKernel,
            Cr0 = Reg(c.Ctrlreg, 0), Cr2 = Reg(c.Ctrlreg, 2), Cr3 = Reg(c.Ctrlreg, 3), Cr4 = Reg(c.Ctrlreg, 4),
            Fpu = c.FpuCtxt,
            Source = "PV vcpu context (64-bit)",
        },
        VcpuGuestContext32 c => new VcpuRegisters
        {
            Id = id,
            Rax = c.UserRegs.Eax, Rbx = c.UserRegs.Ebx, Rcx = c.UserRegs.Ecx, Rdx = c.UserRegs.Edx, Rsi = c.UserRegs.Esi, Rdi = c.UserRegs.Edi,
            Rbp = c.UserRegs.Ebp, Rsp = c.UserRegs.Esp, Rip = c.UserRegs.Eip, Rflags = c.UserRegs.Eflags,
            Cs = c.UserRegs.Cs, Ss = c.UserRegs.Ss, Ds = c.UserRegs.Ds, Es = c.UserRegs.Es, Fs = c.UserRegs.Fs, Gs = c.UserRegs.Gs,
            Cr0 = Reg(c.Ctrlreg, 0), Cr2 = Reg(c.Ctrlreg, 2), Cr3 = Reg(c.Ctrlreg, 3), Cr4 = Reg(c.Ctrlreg, 4),
            Fpu = c.FpuCtxt,
            Source = "PV vcpu context (32-bit)",
        },
        _ => null,
    };

    /// <summary>
    /// What a record's vCPU state holds, a line each, for dump: an HVM_CONTEXT's save records (the
    /// CPU's registers, the others' fields), an X86_PV_VCPU_BASIC's registers; empty for other
    /// records and for a blob that does not decode (then the one line says why).
    /// </summary>
    public static IReadOnlyList<string> Describe(RecordType type, ReadOnlySpan<byte> body, bool littleEndian, int guestWidth)
    {
        var lines = new List<string>();
        try
        {
            if (type == RecordType.HvmContext)
            {
                var context = HvmContext.Read(body.ToArray());
                foreach (var record in (IEnumerable<SaveRecord>)[context.HeaderRecord, .. context.Records])
                {
                    string name = RecordNames.Upper(record.Typecode.KsyName(), (long)record.Typecode);
                    string what = record.Body is Cpu cpu ? Registers(FromCpu(record.Instance, cpu)) : record.Body.Summary();
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{name} #{record.Instance}: {what}"));
                }
            }
            else if (type == RecordType.X86PvVcpuBasic && body.Length >= VcpuContext.Layout.ContextOffset)
            {
                var (id, width, registers) = ReadPv(body, littleEndian, guestWidth);
                lines.Add(registers is { } r
                    ? string.Create(CultureInfo.InvariantCulture, $"vcpu {id} ({width * 8}-bit): {Registers(r)}")
                    : string.Create(CultureInfo.InvariantCulture, $"vcpu {id}: does not decode (a context too short for its width)"));
            }
        }
        catch (FgException e)
        {
            lines.Clear();
            lines.Add("does not decode: " + e.Format());
        }
        return lines;
    }

    /// <summary>The registers as one line: the general ones, rip, rflags, segments, control registers.</summary>
    public static string Registers(VcpuRegisters r)
    {
        ArgumentNullException.ThrowIfNull(r);
        static string X(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
        return "rip=" + X(r.Rip) + " rsp=" + X(r.Rsp) + " rbp=" + X(r.Rbp) + " rflags=" + X(r.Rflags)
            + " rax=" + X(r.Rax) + " rbx=" + X(r.Rbx) + " rcx=" + X(r.Rcx) + " rdx=" + X(r.Rdx) + " rsi=" + X(r.Rsi) + " rdi=" + X(r.Rdi)
            + " r8=" + X(r.R8) + " r9=" + X(r.R9) + " r10=" + X(r.R10) + " r11=" + X(r.R11) + " r12=" + X(r.R12) + " r13=" + X(r.R13) + " r14=" + X(r.R14) + " r15=" + X(r.R15)
            + " cs=" + X(r.Cs) + " ss=" + X(r.Ss) + " ds=" + X(r.Ds) + " es=" + X(r.Es) + " fs=" + X(r.Fs) + " gs=" + X(r.Gs)
            + " fs_base=" + X(r.FsBase) + " gs_base=" + X(r.GsBase)
            + " cr0=" + X(r.Cr0) + " cr2=" + X(r.Cr2) + " cr3=" + X(r.Cr3) + " cr4=" + X(r.Cr4);
    }

    private static ulong Reg<T>(IReadOnlyList<T> regs, int i) where T : struct, IConvertible
        => i < regs.Count ? Convert.ToUInt64(regs[i], CultureInfo.InvariantCulture) : 0;

    private static FgViolation Undecodable(RecordType type, long offset, string why)
        => new("vcpu-state-undecodable", FgSeverity.Warning, "body", offset, "the hypervisor's layout of " + RecordNames.Of(type), why,
            "The stream carries this blob as the hypervisor gave it; its layout is the hypervisor's and changes with it. Its vCPU state was not read; the rest of the stream is unaffected.")
        { RecordName = RecordNames.Of(type) };
}
