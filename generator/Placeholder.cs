namespace FormatGen.Generator { internal static class Placeholder { } }
