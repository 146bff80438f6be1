using System;

namespace FormatGen.Xen;

/// <summary>
/// A vCPU's registers as a save file holds them (from an HVM CPU save record or a
/// PV vcpu context), in the terms of an x86-64 core file: a 32-bit guest's
/// registers are widened, segment selectors are their 16 bits.
/// </summary>
public sealed record VcpuRegisters
{
    /// <summary>The vCPU's id (the save record's instance, the PV record's vcpu_id).</summary>
    public uint Id { get; init; }
    public ulong Rax { get; init; }
    public ulong Rbx { get; init; }
    public ulong Rcx { get; init; }
    public ulong Rdx { get; init; }
    public ulong Rsi { get; init; }
    public ulong Rdi { get; init; }
    public ulong Rbp { get; init; }
    public ulong Rsp { get; init; }
    public ulong R8 { get; init; }
    public ulong R9 { get; init; }
    public ulong R10 { get; init; }
    public ulong R11 { get; init; }
    public ulong R12 { get; init; }
    public ulong R13 { get; init; }
    public ulong R14 { get; init; }
    public ulong R15 { get; init; }
    public ulong Rip { get; init; }
    public ulong Rflags { get; init; }
    public ushort Cs { get; init; }
    public ushort Ss { get; init; }
    public ushort Ds { get; init; }
    public ushort Es { get; init; }
    public ushort Fs { get; init; }
    public ushort Gs { get; init; }
    public ulong FsBase { get; init; }
    public ulong GsBase { get; init; }
    public ulong Cr0 { get; init; }
    public ulong Cr2 { get; init; }
    public ulong Cr3 { get; init; }
    public ulong Cr4 { get; init; }
    /// <summary>The FXSAVE area (512 octets), or empty.</summary>
    public ReadOnlyMemory<byte> Fpu { get; init; }
    /// <summary>Where the values came from: "HVM CPU record", "PV vcpu context (64-bit)", ...</summary>
    public string Source { get; init; } = "";
}
