using System.Text.RegularExpressions;

namespace MeshBulkheads.Observability.Tests;

/// <summary>
/// Extracts the metric names a PromQL expression reads. Not a full parser: it removes strings,
/// label matchers, ranges, grouping clauses and Grafana variables, then keeps identifiers that are
/// not functions (followed by "(") or keywords. Good enough for the expressions we write.
/// </summary>
internal static partial class PromQlNames
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan",
    };

    public static IReadOnlySet<string> Metrics(string expr)
    {
        var text = StringLiteral().Replace(expr, " ");
        text = LabelMatchers().Replace(text, " ");
        text = Ranges().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        text = Variable().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Identifier().Matches(text))
        {
            var name = match.Groups["name"].Value;
            var isFunction = match.Groups["call"].Success;
            if (!isFunction && !Keywords.Contains(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Histogram series names that a documented histogram <paramref name="name"/> implies.</summary>
    public static IEnumerable<string> WithHistogramSeries(string name) => [name, name + "_bucket", name + "_sum", name + "_count"];

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variable();

    [GeneratedRegex(@"(?<![\w:.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();
}
