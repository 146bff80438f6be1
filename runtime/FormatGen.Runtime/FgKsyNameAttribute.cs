using System;

namespace FormatGen.Runtime;

/// <summary>
/// The grammar's own name of a generated type or enum, as Kaitai writes it:
/// the path from the grammar's id through the types it is nested in
/// (<c>scopes::box::item</c>). C# names are flat and qualified only when two
/// grammar names clash; tools that show or compare trees use this one.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum, Inherited = false)]
public sealed class FgKsyNameAttribute : Attribute
{
    public FgKsyNameAttribute(string path) => Path = path;

    /// <summary>The Kaitai path, <c>::</c> between names.</summary>
    public string Path { get; }

    /// <summary>The last name of the path: the type's or enum's own id.</summary>
    public string Id => Path.Substring(Path.LastIndexOf(':') + 1);
}
