using System;
using System.Linq;

namespace FormatGen.Tests;

/// <summary>
/// The one member of the test project's <c>LanguageTests</c> that the linked
/// <c>KaitaiOracle.cs</c> refers to (<c>GeneratedGrammar.Write</c>). The corpus
/// tool only reads, so this is never called; it is here so the oracle file
/// links unchanged.
/// </summary>
internal static class LanguageTests
{
    internal static byte[] Write(object model, bool verify = true)
    {
        var toArray = model.GetType().GetMethod("ToArray")!;
        var args = toArray.GetParameters().Select(p => p.Name == "verify" ? verify : Type.Missing).ToArray();
        return (byte[])toArray.Invoke(model, args)!;
    }
}
