using System.Text.RegularExpressions;

namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// One read of a process's <c>/metrics</c> (Prometheus text format), for before/after deltas that do not
/// depend on Prometheus' rate windows. Series are matched by exact name and a subset of labels.
/// </summary>
/// <remarks>
/// The OpenTelemetry Prometheus exporter caches its response for 300 ms
/// (<c>ScrapeResponseCacheDurationMilliseconds</c>), so a read waits that long first: two reads around a
/// short burst would otherwise return the same text and every delta would be 0.
/// </remarks>
internal sealed partial class MetricsScrape
{
    private static readonly TimeSpan ExporterCache = TimeSpan.FromMilliseconds(350);

    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _series = [];

    private MetricsScrape()
    {
    }

    public static async Task<MetricsScrape> ReadAsync(HttpClient admin, CancellationToken cancellationToken)
    {
        await Task.Delay(ExporterCache, cancellationToken);
        var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).DefaultTimeout();
        var scrape = new MetricsScrape();
        foreach (var line in text.Split('\n'))
        {
            var match = SeriesLine().Match(line);
            if (!match.Success)
            {
                continue;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["key"].Value] = label.Groups["value"].Value;
            }

            var value = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            scrape._series.Add((match.Groups["name"].Value, labels, value));
        }

        return scrape;
    }

    /// <summary>The sum of every series named <paramref name="name"/> carrying all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        _series.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})?\s+(?<value>\S+)")]
    private static partial Regex SeriesLine();

    [GeneratedRegex("(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=\"(?<value>(?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Label();
}
