using System.ComponentModel;

namespace FormatGen.Runtime;

/// <summary>
/// The model of a type (the root, or a parent) as its reader finishes it, for
/// the types read inside it whose instances read its fields later, lazily
/// (Kaitai's <c>_root</c> and <c>_parent</c> in instances): the reader creates
/// the box first, passes it down, and fills it when its model is built.
/// For generated code only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FgBox<T> where T : class
{
    /// <summary>The model, once built.</summary>
    public T? Value { get; set; }

    /// <summary>A box holding a model that exists already.</summary>
    public static FgBox<T> Of(T model) => new() { Value = model };

    /// <summary>The boxed model; an error naming <paramref name="what"/> when there is none (a model built by hand, not read).</summary>
    public static T Get(FgBox<T>? box, string what)
        => box?.Value ?? throw FgException.Invalid("late", what, -1,
            "the value is read from the model that holds this one, which a model built by hand (not read) does not have");
}
