using System.Text.RegularExpressions;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Testing.Prometheus;

/// <summary>
/// One custom rule of <c>k8s/observability/prometheus-adapter-values.yaml</c> (<c>rules.custom[]</c>),
/// and its <c>metricsQuery</c> rendered the way prometheus-adapter renders it for a Pods metric
/// (<c>pods/*/&lt;name&gt;</c> in a namespace): <c>&lt;&lt;.Series&gt;&gt;</c> is the series name the
/// <c>seriesQuery</c> found, <c>&lt;&lt;.LabelMatchers&gt;&gt;</c> is <c>namespace="…",pod=~"a|b"</c>, and
/// <c>&lt;&lt;.GroupBy&gt;&gt;</c> is <c>pod</c>.
/// </summary>
/// <remarks>
/// The file is read with a line parser for exactly the shape it has (single-quoted <c>seriesQuery</c>
/// and <c>metricsQuery</c>, double-quoted <c>name.as</c>), so this library needs no YAML package; a
/// rule written in another shape is reported, not silently skipped.
/// </remarks>
public sealed partial record PrometheusAdapterRule(string SeriesQuery, string NameMatches, string NameAs, string MetricsQuery)
{
    /// <summary>The adapter values file, relative to the repository root.</summary>
    public static string ValuesFile => Path.Combine(RepositoryLayout.Root, "k8s", "observability", "prometheus-adapter-values.yaml");

    /// <summary>The series name the <c>seriesQuery</c> selects (what the adapter puts in <c>&lt;&lt;.Series&gt;&gt;</c>).</summary>
    public string Series => SeriesName().Match(SeriesQuery) is { Success: true } m ? m.Groups["name"].Value : throw new InvalidOperationException($"No series name in `{SeriesQuery}`.");

    /// <summary>Every rule in <c>rules.custom</c>.</summary>
    public static IReadOnlyList<PrometheusAdapterRule> LoadAll(string? path = null)
    {
        var rules = new List<PrometheusAdapterRule>();
        string? series = null, matches = null, nameAs = null;
        foreach (var raw in File.ReadLines(path ?? ValuesFile))
        {
            var line = raw.Trim();
            if (line.StartsWith("- seriesQuery:", StringComparison.Ordinal))
            {
                series = SingleQuoted(line);
                matches = nameAs = null;
            }
            else if (line.StartsWith("matches:", StringComparison.Ordinal))
            {
                matches = DoubleQuoted(line);
            }
            else if (line.StartsWith("as:", StringComparison.Ordinal))
            {
                nameAs = DoubleQuoted(line);
            }
            else if (line.StartsWith("metricsQuery:", StringComparison.Ordinal))
            {
                if (series is null || matches is null || nameAs is null)
                {
                    throw new InvalidOperationException($"metricsQuery before its seriesQuery and name in {path ?? ValuesFile}: {line}");
                }

                rules.Add(new PrometheusAdapterRule(series, matches, nameAs, SingleQuoted(line)));
                series = matches = nameAs = null;
            }
        }

        return rules;
    }

    /// <summary>The rule whose <c>name.as</c> is <paramref name="metric"/>.</summary>
    public static PrometheusAdapterRule Get(string metric) =>
        LoadAll().SingleOrDefault(r => r.NameAs == metric) ?? throw new InvalidOperationException($"No adapter rule names a metric {metric}.");

    /// <summary>The query the adapter sends Prometheus for <c>pods/*/NameAs</c> in <paramref name="namespace"/> over <paramref name="pods"/>.</summary>
    public string Render(string @namespace, IReadOnlyCollection<string> pods)
    {
        // The adapter quotes with Go's %q and joins the pods of the HPA's selector into one regex.
        var matchers = $"namespace=\"{@namespace}\",pod=~\"{string.Join('|', pods)}\"";
        return MetricsQuery
            .Replace("<<.Series>>", Series, StringComparison.Ordinal)
            .Replace("<<.LabelMatchers>>", matchers, StringComparison.Ordinal)
            .Replace("<<.GroupBy>>", "pod", StringComparison.Ordinal);
    }

    private static string SingleQuoted(string line)
    {
        var start = line.IndexOf('\'', StringComparison.Ordinal);
        var end = line.LastIndexOf('\'');
        return start >= 0 && end > start
            ? line[(start + 1)..end].Replace("''", "'", StringComparison.Ordinal)
            : throw new InvalidOperationException($"Expected a single-quoted value: {line}");
    }

    private static string DoubleQuoted(string line)
    {
        var start = line.IndexOf('"', StringComparison.Ordinal);
        var end = line.LastIndexOf('"');
        return start >= 0 && end > start ? line[(start + 1)..end] : throw new InvalidOperationException($"Expected a double-quoted value: {line}");
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{")]
    private static partial Regex SeriesName();
}
