using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MeshBulkheads.LoadGen.Scraping;

/// <summary>
/// The diagnosis table at a glance: per process, each bulkhead's active/limit, queued, oldest age
/// and shed rate by reason; the gateway's rate-limit decisions per tenant; thread-pool lag. Rates
/// come from the difference of the last two scrapes of a process.
/// </summary>
internal sealed class SaturationView : IScrapeSink
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Uri, (Scrape? Previous, Scrape Latest)> _scrapes = [];

    public void OnScrape(Scrape scrape)
    {
        lock (_lock)
        {
            _scrapes[scrape.Target] = _scrapes.TryGetValue(scrape.Target, out var last) ? (last.Latest, scrape) : (null, scrape);
        }
    }

    public IRenderable Render(IReadOnlyList<Uri> targets, long dropped, long failed)
    {
        var table = new Table { Border = TableBorder.Rounded, Title = new TableTitle("meshload watch — bulkheads from /metrics") };
        table.AddColumns("process", "bulkhead", "active/limit", "queued", "oldest age", "shed/s by reason");
        var tenants = new List<string>();
        var lags = new List<string>();
        lock (_lock)
        {
            foreach (var target in targets)
            {
                if (!_scrapes.TryGetValue(target, out var pair))
                {
                    table.AddRow(Markup.Escape(target.Authority), "[grey]no scrape yet[/]", string.Empty, string.Empty, string.Empty, string.Empty);
                    continue;
                }

                var (previous, latest) = pair;
                var seconds = previous is null ? 0 : latest.AtSeconds - previous.AtSeconds;
                foreach (var bulkhead in latest.Samples.Select(s => s.Label("meshbulkheads_bulkhead")).Where(b => b.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    double Gauge(string name) => latest.Samples.Where(s => s.Name == name && s.Label("meshbulkheads_bulkhead") == bulkhead).Sum(s => s.Value);
                    var shed = Rates(previous, latest, seconds, "meshbulkheads_bulkhead_requests_total", s => s.Label("meshbulkheads_bulkhead") == bulkhead, s => s.Label("meshbulkheads_bulkhead_result"))
                        .Where(r => r.Key is not "acquired" and not "canceled" && r.Value > 0)
                        .Select(r => $"{r.Key} {r.Value:0.#}");
                    var active = Gauge("meshbulkheads_bulkhead_active_requests");
                    var limit = Gauge("meshbulkheads_bulkhead_permit_limit");
                    var queued = Gauge("meshbulkheads_bulkhead_queued_requests");
                    var age = Gauge("meshbulkheads_bulkhead_queue_oldest_age_seconds");
                    table.AddRow(
                        Markup.Escape(latest.Process),
                        Markup.Escape(bulkhead),
                        (limit > 0 && active >= limit ? "[red]" : "[green]") + F(active) + "/" + F(limit) + "[/]",
                        queued > 0 ? $"[yellow]{F(queued)}[/]" : "0",
                        age > 0 ? (age * 1000).ToString("0", CultureInfo.InvariantCulture) + "ms" : "-",
                        Markup.Escape(string.Join(", ", shed.DefaultIfEmpty("-"))));
                }

                foreach (var decision in Rates(previous, latest, seconds, "meshbulkheads_gateway_rate_limit_decisions_total", _ => true, s => s.Label("meshbulkheads_tenant") + " " + s.Label("meshbulkheads_rate_limit_result")))
                {
                    tenants.Add($"{decision.Key} {decision.Value:0.#}/s");
                }

                var sum = Delta(previous, latest, "meshbulkheads_threadpool_lag_seconds_sum");
                var count = Delta(previous, latest, "meshbulkheads_threadpool_lag_seconds_count");
                if (count > 0)
                {
                    lags.Add($"{latest.Process} {sum / count * 1000:0.0}ms");
                }
            }
        }

        return new Rows(
            table,
            new Text($"rate-limit decisions: {(tenants.Count == 0 ? "-" : string.Join(", ", tenants))}"),
            new Text($"thread-pool lag (mean over the interval): {(lags.Count == 0 ? "-" : string.Join(", ", lags))}"),
            new Text($"late scrapes dropped {dropped}, failed {failed}"));
    }

    private static Dictionary<string, double> Rates(Scrape? previous, Scrape latest, double seconds, string metric, Func<PromSample, bool> where, Func<PromSample, string> key)
    {
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        if (previous is null || seconds <= 0)
        {
            return rates;
        }

        var before = previous.Samples.Where(s => s.Name == metric && where(s)).GroupBy(key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);
        foreach (var group in latest.Samples.Where(s => s.Name == metric && where(s)).GroupBy(key))
        {
            var delta = group.Sum(s => s.Value) - before.GetValueOrDefault(group.Key);
            rates[group.Key] = Math.Max(0, delta) / seconds;
        }

        return rates;
    }

    private static double Delta(Scrape? previous, Scrape latest, string metric) =>
        previous is null ? 0 : latest.Samples.Where(s => s.Name == metric).Sum(s => s.Value) - previous.Samples.Where(s => s.Name == metric).Sum(s => s.Value);

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);
}
