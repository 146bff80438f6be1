using Microsoft.CodeAnalysis;

namespace FormatGen.Generator;

/// <summary>Every diagnostic the generator reports. Ids are stable; tests cover each.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "FormatGen";

    public static readonly DiagnosticDescriptor InvalidYaml = Error("FG0001", "Grammar is not valid YAML", "{0}");
    public static readonly DiagnosticDescriptor UnsupportedKey = Error("FG0002", "Unsupported grammar key", "Key '{0}' is not supported by FormatGen{1}");
    public static readonly DiagnosticDescriptor MissingKey = Error("FG0003", "Required key missing", "{0} needs '{1}'");
    public static readonly DiagnosticDescriptor BadValue = Error("FG0004", "Invalid value", "Invalid value for '{0}': {1}");
    public static readonly DiagnosticDescriptor UnknownType = Error("FG0005", "Unknown type", "Type '{0}' is not defined");
    public static readonly DiagnosticDescriptor UnknownEnum = Error("FG0006", "Unknown enum", "Enum '{0}' is not defined");
    public static readonly DiagnosticDescriptor ExpressionSyntax = Error("FG0007", "Expression syntax error", "Cannot parse expression '{0}': {1}");
    public static readonly DiagnosticDescriptor UnknownName = Error("FG0008", "Unknown name in expression", "'{0}' is not defined here{1}");
    public static readonly DiagnosticDescriptor TypeMismatch = Error("FG0009", "Expression type mismatch", "{0}");
    public static readonly DiagnosticDescriptor DuplicateName = Error("FG0010", "Duplicate name", "'{0}' is defined more than once");
    public static readonly DiagnosticDescriptor UnsupportedFeature = Error("FG0011", "Unsupported grammar feature", "{0} is not supported by FormatGen");
    public static readonly DiagnosticDescriptor DuplicateCase = Error("FG0012", "Switch key given twice", "Key '{0}' of switch '{1}' is given more than once");
    public static readonly DiagnosticDescriptor BadStream = Error("FG0013", "Invalid streamed field", "{0}");
    public static readonly DiagnosticDescriptor BadParams = Error("FG0014", "Wrong type arguments", "Type '{0}' takes {1} argument(s), {2} given");
    public static readonly DiagnosticDescriptor MissingMetaId = Error("FG0015", "Grammar has no meta/id", "A grammar needs meta/id");
    public static readonly DiagnosticDescriptor MissingImport = Error("FG0016", "Imported grammar not found", "Imported grammar '{0}' is not an AdditionalFile of this project (looked for {1})");
    public static readonly DiagnosticDescriptor ImportCycle = Error("FG0017", "Grammars import each other", "Grammars import each other: {0}");
    public static readonly DiagnosticDescriptor NameClash = Error("FG0018", "A name defined by two grammars in one namespace",
        "'{0}' is {1} of this grammar and of {2}, both in namespace {3}: give one of the grammars its own -fg-namespace");
    public static readonly DiagnosticDescriptor RuntimeMissing = Error("FG0019", "FormatGen.Runtime is missing or too old",
        "The code generated from {0} needs FormatGen.Runtime {1} or later, and the project {2}: add the package FormatGen (it brings the runtime), or FormatGen.Runtime {1}");

    public static readonly DiagnosticDescriptor EndlessType = Error("FG0021", "A type always contains itself",
        "'{0}' contains itself whatever its input says ({1}): no input is long enough to hold one; give a field on the way an 'if', or make it a repeat that may be empty");

    private static DiagnosticDescriptor Error(string id, string title, string format)
        => new(id, title, format, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static DiagnosticDescriptor? ById(string id) => id switch
    {
        "FG0001" => InvalidYaml,
        "FG0002" => UnsupportedKey,
        "FG0003" => MissingKey,
        "FG0004" => BadValue,
        "FG0005" => UnknownType,
        "FG0006" => UnknownEnum,
        "FG0007" => ExpressionSyntax,
        "FG0008" => UnknownName,
        "FG0009" => TypeMismatch,
        "FG0010" => DuplicateName,
        "FG0011" => UnsupportedFeature,
        "FG0012" => DuplicateCase,
        "FG0013" => BadStream,
        "FG0014" => BadParams,
        "FG0015" => MissingMetaId,
        "FG0016" => MissingImport,
        "FG0017" => ImportCycle,
        "FG0018" => NameClash,
        "FG0019" => RuntimeMissing,
        "FG0021" => EndlessType,
        _ => null,
    };
}

/// <summary>A position in a grammar file (1-based line and column).</summary>
internal sealed record Loc(string File, int Line, int Column)
{
    public Location ToLocation()
    {
        var pos = new Microsoft.CodeAnalysis.Text.LinePosition(System.Math.Max(0, Line - 1), System.Math.Max(0, Column - 1));
        return Location.Create(File, default, new Microsoft.CodeAnalysis.Text.LinePositionSpan(pos, pos));
    }
}

/// <summary>A diagnostic as an equatable value (pipeline stages never hold Diagnostic objects).</summary>
internal sealed record DiagInfo(string Id, Loc Loc, EquatableArray<string> Args)
{
    public static DiagInfo Of(DiagnosticDescriptor d, Loc loc, params string[] args) => new(d.Id, loc, new EquatableArray<string>(args));

    public Diagnostic ToDiagnostic()
    {
        var d = DiagnosticDescriptors.ById(Id)!;
        var args = new object[Args.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Args[i];
        return Diagnostic.Create(d, Loc.ToLocation(), args);
    }
}
