using System;
using System.Collections.Generic;
using System.Numerics;

namespace FormatGen.Xen;

/// <summary>
/// A set of page frame numbers, held as a bitmap in chunks of 2^18 pfns (32 KiB
/// each, made when a pfn in it is first added): memory follows the pfns in use,
/// not the highest one, so a guest whose pfns are sparse up to 2^52 costs only
/// the chunks it touches.
/// </summary>
public sealed class PfnSet
{
    /// <summary>Pfns per chunk, as a power of two.</summary>
    public const int ChunkShift = 18;
    private const ulong ChunkMask = (1UL << ChunkShift) - 1;

    private readonly Dictionary<ulong, ulong[]> _chunks = new();
    private ulong _lastKey = ulong.MaxValue;
    private ulong[]? _last;

    /// <summary>How many pfns are in the set.</summary>
    public long Count { get; private set; }

    /// <summary>The highest pfn ever added (null when none was).</summary>
    public ulong? Highest { get; private set; }

    /// <summary>Chunks made (each 32 KiB).</summary>
    public int Chunks => _chunks.Count;

    /// <summary>Adds a pfn; true when it was not in the set.</summary>
    public bool Add(ulong pfn)
    {
        var bits = Chunk(pfn >> ChunkShift, create: true)!;
        ulong i = pfn & ChunkMask, mask = 1UL << (int)(i & 63);
        if (Highest is not { } h || pfn > h) Highest = pfn;
        ref ulong word = ref bits[i >> 6];
        if ((word & mask) != 0) return false;
        word |= mask;
        Count++;
        return true;
    }

    /// <summary>Removes a pfn; true when it was in the set.</summary>
    public bool Remove(ulong pfn)
    {
        var bits = Chunk(pfn >> ChunkShift, create: false);
        if (bits is null) return false;
        ulong i = pfn & ChunkMask, mask = 1UL << (int)(i & 63);
        ref ulong word = ref bits[i >> 6];
        if ((word & mask) == 0) return false;
        word &= ~mask;
        Count--;
        return true;
    }

    public bool Contains(ulong pfn)
    {
        var bits = Chunk(pfn >> ChunkShift, create: false);
        ulong i = pfn & ChunkMask;
        return bits is not null && (bits[i >> 6] & (1UL << (int)(i & 63))) != 0;
    }

    private ulong[]? Chunk(ulong key, bool create)
    {
        if (key == _lastKey) return _last;
        if (!_chunks.TryGetValue(key, out var bits))
        {
            if (!create) return null;
            bits = new ulong[(1 << ChunkShift) / 64];
            _chunks.Add(key, bits);
        }
        _lastKey = key;
        _last = bits;
        return bits;
    }

    /// <summary>The runs of consecutive pfns in the set, lowest first, as (first pfn, count).</summary>
    public IEnumerable<(ulong First, ulong Count)> Runs()
    {
        var keys = new List<ulong>(_chunks.Keys);
        keys.Sort();
        ulong start = 0, length = 0;
        foreach (var key in keys)
        {
            var bits = _chunks[key];
            ulong chunkBase = key << ChunkShift;
            for (int w = 0; w < bits.Length; w++)
            {
                ulong word = bits[w];
                ulong at = chunkBase + ((ulong)w << 6);
                if (word == ulong.MaxValue && length > 0 && start + length == at)
                {
                    length += 64;
                    continue;
                }
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
        if (length > 0) yield return (start, length);
    }
}
