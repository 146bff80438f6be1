using System;
using FormatGen.Xen.Libxc;

namespace FormatGen.Xen;

/// <summary>
/// A PAGE_DATA body's entries read straight from its octets, in order, each with
/// the number of its page in the data after them (pages go in entry order, one for
/// each entry whose type carries one). A body cut shorter than its count says
/// gives the entries it holds; a page it does not hold whole has no number.
/// </summary>
internal ref struct PageDataEntries
{
    private readonly ReadOnlySpan<byte> _entries;
    private readonly bool _le;
    private readonly int _pages;   // whole pages the data holds
    private int _i;
    private int _page;

    public PageDataEntries(ReadOnlySpan<byte> body, bool littleEndian, int pageShift)
    {
        _le = littleEndian;
        _i = -1;
        if (body.Length < PageData.Layout.PfnsOffset) return;
        int n = (int)Math.Min(PageData.PeekCount(body, littleEndian), (body.Length - PageData.Layout.PfnsOffset) / PfnEntry.Layout.Size);
        _entries = body.Slice(PageData.Layout.PfnsOffset, n * PfnEntry.Layout.Size);
        Data = body.Slice(PageData.Layout.PfnsOffset + n * PfnEntry.Layout.Size);
        _pages = Data.Length >> pageShift;
    }

    /// <summary>The pages, after the entries.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The current entry.</summary>
    public PfnEntry Entry { get; private set; }

    /// <summary>The number of the current entry's page in <see cref="Data"/>, or -1 when it carries none or the data does not hold it whole.</summary>
    public int Page { get; private set; }

    public readonly PageDataEntries GetEnumerator() => this;

    public readonly PageDataEntries Current => this;

    public bool MoveNext()
    {
        if ((_i + 1) * PfnEntry.Layout.Size >= _entries.Length) return false;
        _i++;
        Entry = new PfnEntry { Raw = PfnEntry.PeekRaw(_entries.Slice(_i * PfnEntry.Layout.Size), _le) };
        Page = -1;
        if (Entry.HasData)
        {
            if (_page < _pages) Page = _page;
            _page++;
        }
        return true;
    }
}
