using System;
using System.Collections.Generic;
using System.Numerics;

namespace FormatGen.Xen;

/// <summary>
/// A set of page frame numbers whose memory follows the pfns in it, not the
/// highest one: pfns are grouped in chunks of 2^16, and a chunk holds its pfns
/// as a sorted list of 16-bit offsets while it has few (2 octets each), as a
/// bitmap (8 KiB) once it has many. A dense guest costs 8 KiB per 256 MiB of
/// 4 KiB pages; pfns scattered up to 2^52 cost tens of octets each.
/// </summary>
public sealed class PfnSet
{
    private const int ChunkShift = 16;
    private const int ListMax = 4096;   // past this many, a bitmap (8 KiB) is smaller than the list

    // A chunk: a sorted list of offsets (List, Count of them used) or a bitmap (Bits).
    private sealed class Chunk
    {
        public ushort[]? List = new ushort[8];
        public ulong[]? Bits;
        public int Count;
    }

    private readonly Dictionary<ulong, Chunk> _chunks = new();
    private ulong _lastKey = ulong.MaxValue;
    private Chunk? _last;

    /// <summary>How many pfns are in the set.</summary>
    public long Count { get; private set; }

    /// <summary>The highest pfn ever added (null when none was).</summary>
    public ulong? Highest { get; private set; }

    /// <summary>Adds a pfn; true when it was not in the set.</summary>
    public bool Add(ulong pfn)
    {
        if (Highest is not { } h || pfn > h) Highest = pfn;
        var c = Find(pfn >> ChunkShift, create: true)!;
        ushort at = (ushort)pfn;
        if (c.Bits is { } bits)
        {
            ref ulong word = ref bits[at >> 6];
            ulong mask = 1UL << (at & 63);
            if ((word & mask) != 0) return false;
            word |= mask;
        }
        else
        {
            var list = c.List!;
            // Pages mostly come in order: appending is the common case.
            int i = c.Count > 0 && list[c.Count - 1] < at ? ~c.Count : Array.BinarySearch(list, 0, c.Count, at);
            if (i >= 0) return false;
            i = ~i;
            if (c.Count == ListMax) ToBits(c);
            else
            {
                if (c.Count == list.Length) Array.Resize(ref c.List, list.Length * 2);
                Array.Copy(c.List!, i, c.List!, i + 1, c.Count - i);
                c.List![i] = at;
            }
            if (c.Bits is { } now) now[at >> 6] |= 1UL << (at & 63);
        }
        c.Count++;
        Count++;
        return true;
    }

    private static void ToBits(Chunk c)
    {
        var bits = new ulong[(1 << ChunkShift) / 64];
        for (int i = 0; i < c.Count; i++) bits[c.List![i] >> 6] |= 1UL << (c.List[i] & 63);
        c.Bits = bits;
        c.List = null;
    }

    /// <summary>Removes a pfn; true when it was in the set.</summary>
    public bool Remove(ulong pfn)
    {
        var c = Find(pfn >> ChunkShift, create: false);
        if (c is null) return false;
        ushort at = (ushort)pfn;
        if (c.Bits is { } bits)
        {
            ref ulong word = ref bits[at >> 6];
            ulong mask = 1UL << (at & 63);
            if ((word & mask) == 0) return false;
            word &= ~mask;
        }
        else
        {
            int i = Array.BinarySearch(c.List!, 0, c.Count, at);
            if (i < 0) return false;
            Array.Copy(c.List!, i + 1, c.List!, i, c.Count - i - 1);
        }
        c.Count--;
        Count--;
        return true;
    }

    public bool Contains(ulong pfn)
    {
        var c = Find(pfn >> ChunkShift, create: false);
        if (c is null) return false;
        ushort at = (ushort)pfn;
        return c.Bits is { } bits ? (bits[at >> 6] & (1UL << (at & 63))) != 0 : Array.BinarySearch(c.List!, 0, c.Count, at) >= 0;
    }

    private Chunk? Find(ulong key, bool create)
    {
        if (key == _lastKey) return _last;
        if (!_chunks.TryGetValue(key, out var c))
        {
            if (!create) return null;
            c = new Chunk();
            _chunks.Add(key, c);
        }
        _lastKey = key;
        _last = c;
        return c;
    }

    /// <summary>The pfns in the set, lowest first.</summary>
    public IEnumerable<ulong> Pfns()
    {
        foreach (var (first, count) in Runs())
            for (ulong i = 0; i < count; i++) yield return first + i;
    }

    /// <summary>The runs of consecutive pfns in the set, lowest first, as (first pfn, count).</summary>
    public IEnumerable<(ulong First, ulong Count)> Runs()
    {
        var keys = new List<ulong>(_chunks.Keys);
        keys.Sort();
        ulong start = 0, length = 0;
        foreach (var key in keys)
        {
            var c = _chunks[key];
            ulong chunkBase = key << ChunkShift;
            if (c.Bits is { } bits)
            {
                for (int w = 0; w < bits.Length; w++)
                {
                    ulong word = bits[w];
                    ulong at = chunkBase + ((ulong)w << 6);
                    while (word != 0)
                    {
                        int bit = BitOperations.TrailingZeroCount(word);
                        ulong ones = ~(word >> bit);
                        int run = ones == 0 ? 64 - bit : BitOperations.TrailingZeroCount(ones);
                        ulong first = at + (ulong)bit;
                        if (length > 0 && start + length == first) length += (ulong)run;
                        else
                        {
                            if (length > 0) yield return (start, length);
                            start = first;
                            length = (ulong)run;
                        }
                        word = run + bit >= 64 ? 0 : word & ~(((1UL << run) - 1) << bit);
                    }
                }
            }
            else
            {
                for (int i = 0; i < c.Count; i++)
                {
                    ulong pfn = chunkBase + c.List![i];
                    if (length > 0 && start + length == pfn) length++;
                    else
                    {
                        if (length > 0) yield return (start, length);
                        start = pfn;
                        length = 1;
                    }
                }
            }
        }
        if (length > 0) yield return (start, length);
    }
}
