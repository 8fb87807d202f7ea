using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Scraping;

namespace MeshBulkheads.LoadGen.Reporting;

/// <summary>A named series of (seconds, value) points.</summary>
internal sealed record Series(string Name, List<(double X, double Y)> Points);

/// <summary>
/// What one run looked like second by second: every stream's interval samples and every scrape of
/// the processes' bulkheads. The HTML report plots it.
/// </summary>
internal sealed class RunTimeline(string label) : IRunObserver, IScrapeSink
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<IntervalSample>> _streams = new(StringComparer.Ordinal);
    private readonly List<Scrape> _scrapes = [];

    public string Label { get; } = label;

    public RunResult? Result { get; set; }

    public void OnInterval(TimeSpan elapsed, IReadOnlyList<(StreamStats Stats, IntervalSample Sample)> samples)
    {
        lock (_lock)
        {
            foreach (var (stats, sample) in samples)
            {
                if (!_streams.TryGetValue(stats.Spec.Name, out var list))
                {
                    _streams[stats.Spec.Name] = list = [];
                }

                list.Add(sample);
            }
        }
    }

    public void OnScrape(Scrape scrape)
    {
        lock (_lock)
        {
            _scrapes.Add(scrape);
        }
    }

    public IReadOnlyDictionary<string, List<IntervalSample>> StreamSamples
    {
        get
        {
            lock (_lock)
            {
                return _streams.ToDictionary(s => s.Key, s => s.Value.ToList(), StringComparer.Ordinal);
            }
        }
    }

    public int ScrapeCount
    {
        get
        {
            lock (_lock)
            {
                return _scrapes.Count;
            }
        }
    }

    /// <summary>
    /// A bulkhead gauge over time, one series per bulkhead (summed over its other labels). A name that
    /// two processes use (the gateway's route bulkheads before issue 9's rename) is shown as process/name.
    /// </summary>
    public List<Series> BulkheadSeries(string metric)
    {
        lock (_lock)
        {
            var owners = _scrapes
                .SelectMany(s => s.Samples.Where(m => m.Name == metric).Select(m => (s.Process, Bulkhead: m.Label("meshbulkheads_bulkhead"))))
                .Distinct()
                .GroupBy(p => p.Bulkhead, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var series = new SortedDictionary<string, Series>(StringComparer.Ordinal);
            foreach (var scrape in _scrapes)
            {
                foreach (var group in scrape.Samples.Where(s => s.Name == metric).GroupBy(s => s.Label("meshbulkheads_bulkhead")))
                {
                    var name = group.Key.Length == 0 ? scrape.Process : owners[group.Key] > 1 ? $"{scrape.Process}/{group.Key}" : group.Key;
                    if (!series.TryGetValue(name, out var s))
                    {
                        series[name] = s = new Series(name, []);
                    }

                    s.Points.Add((scrape.AtSeconds, group.Sum(g => double.IsFinite(g.Value) ? g.Value : 0)));
                }
            }

            return [.. series.Values];
        }
    }

    /// <summary>Each bulkhead's permit limit at the last scrape (for the "permits in use" legend).</summary>
    public Dictionary<string, double> PermitLimits()
    {
        var limits = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var s in BulkheadSeries("meshbulkheads_bulkhead_permit_limit"))
        {
            limits[s.Name] = s.Points[^1].Y;
        }

        return limits;
    }

    /// <summary>Every scraped bulkhead's peaks (the JSON's <c>bulkheads</c>; <c>meshload compare</c> reads them).</summary>
    public List<BulkheadPeak> BulkheadPeaks()
    {
        static Dictionary<string, double> Max(List<Series> series) =>
            series.ToDictionary(s => s.Name, s => s.Points.Max(p => p.Y), StringComparer.Ordinal);

        var active = Max(BulkheadSeries("meshbulkheads_bulkhead_active_requests"));
        var queued = Max(BulkheadSeries("meshbulkheads_bulkhead_queued_requests"));
        var oldest = Max(BulkheadSeries("meshbulkheads_bulkhead_queue_oldest_age_seconds"));
        var limits = PermitLimits();
        return [.. active.Keys.Union(queued.Keys).Union(oldest.Keys).Union(limits.Keys).Order(StringComparer.Ordinal).Select(name => new BulkheadPeak(
            name,
            limits.GetValueOrDefault(name),
            active.GetValueOrDefault(name),
            queued.GetValueOrDefault(name),
            oldest.GetValueOrDefault(name)))];
    }
}
