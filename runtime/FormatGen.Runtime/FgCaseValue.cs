namespace FormatGen.Runtime;

/// <summary>
/// A switch case that holds an integer: a switch whose every case does is an
/// integer in grammar expressions, as Kaitai has it.
/// </summary>
public interface IFgIntegerCase
{
    /// <summary>The value (a u8 above long's range wraps: read it as ulong).</summary>
    long AsLong { get; }
}

/// <summary>A switch case that holds a string: a switch whose every case does is a string in grammar expressions.</summary>
public interface IFgStringCase
{
    string AsString { get; }
}
