using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FormatGen.Xen;

/// <summary>
/// The ELF64 core file <c>extract --format elf</c> writes, laid out so that pages
/// can go straight to their place as they arrive and the headers follow at the end:
/// the ELF header at offset 0; guest memory from 2 MiB in, in regions of 2^9
/// pfns (2 MiB of 4 KiB pages) placed in the order they are first written (a region
/// is sparse: pages never written are holes); then the notes and the program headers
/// (one PT_NOTE, one PT_LOAD per run of consecutive pfns, physical address = virtual
/// address = pfn × page size). Written little-endian for x86-64 (EM_X86_64, ET_CORE).
/// </summary>
internal sealed class ElfCore
{
    private const int EhSize = 64, PhSize = 56, ShSize = 64;
    // Pfns per region, as a power of two: 2 MiB of 4 KiB pages. Scattered pfns each take a region's
    // room in the file (a hole), so a region is small; consecutive ones placed one after another merge.
    private const int RegionShift = 9;
    private const ushort PnXnum = 0xFFFF;
    /// <summary>The type of the note named "xenstream" that carries the domain header's facts ("XS" and 1).</summary>
    public const uint FactsNoteType = 0x58530001;
    private readonly SafeFileHandle _file;
    private readonly int _pageShift;
    private readonly long _dataStart;
    private readonly long _regionSize;
    private readonly Dictionary<ulong, long> _regions = new();   // region index to its file offset
    private long _next;
    private long _end;   // just past the last page written

    public ElfCore(SafeFileHandle file, int pageShift)
    {
        _file = file;
        _pageShift = pageShift;
        // Memory starts 2 MiB in (a hole after the header): pages lie at the same offsets within 2 MiB as
        // in a raw image, so the page cache takes their writes alike (in folios as large as raw's).
        _dataStart = Math.Max(2L << 20, 1L << pageShift);
        _regionSize = 1L << (RegionShift + pageShift);
        _next = _dataStart;
    }

    /// <summary>Where pfn's page lies in the file (its region is placed now if it has no place yet).</summary>
    public long OffsetOf(ulong pfn)
    {
        ulong region = pfn >> RegionShift;
        if (!_regions.TryGetValue(region, out long at))
        {
            at = _next;
            _next += _regionSize;
            _regions.Add(region, at);
        }
        return at + ((long)(pfn & ((1UL << RegionShift) - 1)) << _pageShift);
    }

    /// <summary>Records that pages were written up to <paramref name="end"/> (the notes go after the last).</summary>
    public void Wrote(long end) => _end = Math.Max(_end, end);

    /// <summary>Pfns from <paramref name="pfn"/> that lie in its region (a run written at once must not cross one).</summary>
    public static ulong LeftInRegion(ulong pfn) => (1UL << RegionShift) - (pfn & ((1UL << RegionShift) - 1));

    /// <summary>Writes the notes, the program headers and the ELF header; returns the file's length.</summary>
    public long Finish(PfnSet pages, IReadOnlyList<VcpuRegisters> vcpus, ReadOnlySpan<byte> facts, bool hvm)
    {
        var notes = new MemoryStream();
        foreach (var v in vcpus)
        {
            Note(notes, "CORE", 1, PrStatus(v));   // NT_PRSTATUS
            if (v.Fpu.Length == 512) Note(notes, "CORE", 2, v.Fpu.Span);   // NT_FPREGSET
        }
        // Xen's own dump-core header note (xc_core): magic, vCPUs, pages, page size.
        Span<byte> header = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(header, hvm ? 0xF00FEBEEUL : 0xF00FEBEDUL);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], (ulong)vcpus.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)pages.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], 1UL << _pageShift);
        Note(notes, "Xen", 0x2000001, header);
        Note(notes, "xenstream", FactsNoteType, facts);

        // Runs of consecutive pfns, split where their regions are not next to each other in the file.
        var loads = new List<(ulong Pfn, ulong Count, long Offset)>();
        foreach (var (first, count) in pages.Runs())
        {
            ulong pfn = first, left = count;
            while (left > 0)
            {
                ulong n = Math.Min(left, LeftInRegion(pfn));
                long offset = OffsetOf(pfn);
                if (loads.Count > 0 && loads[^1] is var last && last.Pfn + last.Count == pfn && last.Offset + ((long)last.Count << _pageShift) == offset)
                    loads[^1] = (last.Pfn, last.Count + n, last.Offset);
                else loads.Add((pfn, n, offset));
                pfn += n;
                left -= n;
            }
        }

        long notesAt = Math.Max(_end, _dataStart);
        long phAt = Align(notesAt + notes.Length, 8);
        long phnum = 1 + loads.Count;
        long shAt = phAt + phnum * PhSize;
        bool xnum = phnum >= PnXnum;
        long end = xnum ? shAt + ShSize : shAt;

        RandomAccess.Write(_file, notes.GetBuffer().AsSpan(0, (int)notes.Length), notesAt);
        var ph = new byte[64 << 10];
        int used = 0;
        long at = phAt;
        void Put(uint type, uint flags, long offset, ulong address, ulong size, ulong align)
        {
            if (used + PhSize > ph.Length)
            {
                RandomAccess.Write(_file, ph, at);
                at += used;
                used = 0;
            }
            var p = ph.AsSpan(used, PhSize);
            BinaryPrimitives.WriteUInt32LittleEndian(p, type);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], flags);
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], address);   // p_vaddr
            BinaryPrimitives.WriteUInt64LittleEndian(p[24..], address);   // p_paddr
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], size);      // p_filesz
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], size);      // p_memsz
            BinaryPrimitives.WriteUInt64LittleEndian(p[48..], align);
            used += PhSize;
        }
        Put(4, 0, notesAt, 0, (ulong)notes.Length, 4);   // PT_NOTE
        foreach (var (pfn, count, offset) in loads)
            Put(1, 7, offset, pfn << _pageShift, count << _pageShift, 1UL << _pageShift);   // PT_LOAD, RWX
        RandomAccess.Write(_file, ph.AsSpan(0, used), at);

        if (xnum)
        {
            // More program headers than e_phnum holds: the count goes in section header 0's sh_info.
            var sh = new byte[ShSize];
            BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(44), (uint)Math.Min(phnum, uint.MaxValue));
            RandomAccess.Write(_file, sh, shAt);
        }

        var eh = new byte[EhSize];
        eh[0] = 0x7F;
        "ELF"u8.CopyTo(eh.AsSpan(1));
        eh[4] = 2;   // ELFCLASS64
        eh[5] = 1;   // ELFDATA2LSB
        eh[6] = 1;   // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(16), 4);    // ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(18), 62);   // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(eh.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(eh.AsSpan(32), (ulong)phAt);
        BinaryPrimitives.WriteUInt64LittleEndian(eh.AsSpan(40), xnum ? (ulong)shAt : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(52), EhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(54), PhSize);
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(56), xnum ? PnXnum : (ushort)phnum);
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(58), xnum ? (ushort)ShSize : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(eh.AsSpan(60), xnum ? (ushort)1 : (ushort)0);
        RandomAccess.Write(_file, eh, 0);
        // The section header or the program headers end the file, but for an empty set of pages: no truncate then (see GuestMemory).
        if (RandomAccess.GetLength(_file) != end) RandomAccess.SetLength(_file, end);
        return end;
    }

    private static long Align(long n, long to) => (n + to - 1) & ~(to - 1);

    private static void Note(MemoryStream into, string name, uint type, ReadOnlySpan<byte> desc)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], type);
        into.Write(head);
        into.Write(nameBytes);
        Pad(into);
        into.Write(desc);
        Pad(into);
    }

    private static void Pad(MemoryStream s)
    {
        while (s.Length % 4 != 0) s.WriteByte(0);
    }

    /// <summary>An x86-64 elf_prstatus (336 octets): the vCPU as a thread (pid = vCPU id + 1) and its registers in user_regs_struct order.</summary>
    internal static byte[] PrStatus(VcpuRegisters v)
    {
        var b = new byte[336];
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(32), (int)v.Id + 1);   // pr_pid
        ulong[] regs =
        [
            v.R15, v.R14, v.R13, v.R12, v.Rbp, v.Rbx, v.R11, v.R10, v.R9, v.R8, v.Rax, v.Rcx, v.Rdx, v.Rsi, v.Rdi,
            ulong.MaxValue /* orig_rax */, v.Rip, v.Cs, v.Rflags, v.Rsp, v.Ss, v.FsBase, v.GsBase, v.Ds, v.Es, v.Fs, v.Gs,
        ];
        for (int i = 0; i < regs.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(112 + 8 * i), regs[i]);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(328), v.Fpu.Length == 512 ? 1 : 0);   // pr_fpvalid
        return b;
    }
}
