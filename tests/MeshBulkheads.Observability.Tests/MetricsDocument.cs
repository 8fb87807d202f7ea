using System.Text.RegularExpressions;

namespace MeshBulkheads.Observability.Tests;

/// <summary>The metrics table of docs/metrics.md: exported name, type and whether it is planned.</summary>
internal sealed partial record MetricsDocument(IReadOnlyDictionary<string, string> Types, IReadOnlySet<string> Planned)
{
    public static MetricsDocument Load()
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var planned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(ObservabilityFiles.MetricsDoc))
        {
            var row = Row().Match(line);
            if (!row.Success)
            {
                continue;
            }

            var name = row.Groups["name"].Value;
            types[name] = row.Groups["type"].Value.Trim();
            if (row.Groups["planned"].Success)
            {
                planned.Add(name);
            }
        }

        return new MetricsDocument(types, planned);
    }

    /// <summary>Every series name a query may use: histograms add _bucket, _sum and _count.</summary>
    public IReadOnlySet<string> SeriesNames() =>
        Types.SelectMany(t => t.Value.StartsWith("histogram", StringComparison.Ordinal) ? PromQlNames.WithHistogramSeries(t.Key) : [t.Key])
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^\|\s*`(?<name>[a-z_:][a-z0-9_:]*)`\s*(?<planned>\(planned\))?\s*\|\s*(?<type>[^|]+)\|")]
    private static partial Regex Row();
}
