using System;

namespace FormatGen.Runtime;

/// <summary>
/// What a generated grammar exposes for streaming: the fields before its
/// streamed repeat (the prefix, read once) and one element of the repeat at
/// a time. <see cref="FgStreamReader{TElement}"/> drives it over any stream.
/// </summary>
public abstract class FgStreamGrammar<TElement> where TElement : class
{
    /// <summary>Reads every field before the streamed repeat.</summary>
    public abstract void ReadPrefix(ref FgReader reader, FgValidation? validation);

    /// <summary>
    /// Reads one element. Returns the model when <paramref name="build"/> is
    /// set, otherwise null (the element is still checked in full).
    /// </summary>
    public abstract TElement? ReadElement(ref FgReader reader, FgValidation? validation, bool build, long index, out bool last);

    /// <summary>Byte order of the elements, known once the prefix is read.</summary>
    public abstract bool ElementsLittleEndian { get; }

    /// <summary>
    /// True when a field of the element is marked <c>-fg-limit</c>: the stream's
    /// length limit then applies to that field's size (a record's body), checked
    /// as soon as the size is read, instead of to the whole element.
    /// </summary>
    public virtual bool LimitsField => false;

    /// <summary>What the elements are called in messages: "record" unless the format names them otherwise.</summary>
    public virtual string ElementNoun => "record";

    /// <summary>A short label for an element's raw bytes (used in messages), or null.</summary>
    public virtual string? Label(ReadOnlySpan<byte> element) => null;
}
