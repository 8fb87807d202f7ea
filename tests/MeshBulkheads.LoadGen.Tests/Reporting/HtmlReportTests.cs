using System.Text.RegularExpressions;
using MeshBulkheads.LoadGen.Reporting;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Scraping;
using MeshBulkheads.LoadGen.Streams;
using MeshBulkheads.LoadGen.Tests.Thresholds;

namespace MeshBulkheads.LoadGen.Tests.Reporting;

public partial class HtmlReportTests
{
    [Fact]
    public void Render_RunWithScrapes_SelfContainedWithEveryExpectedPlot()
    {
        // Arrange: three seconds of one stream with a rejection, and two scrapes of a reporting process.
        var timeline = new RunTimeline("noisy-neighbor");
        var stats = new StreamStats(new StreamSpec { Name = "reporting", ApiKey = "k", Method = MeshMethod.BuildReport, Rate = 10 });
        for (var second = 1; second <= 3; second++)
        {
            stats.RecordSent(TimeSpan.Zero);
            stats.RecordSent(TimeSpan.Zero);
            stats.RecordCompleted(Outcome.Success, TimeSpan.FromMilliseconds(10 * second));
            stats.RecordCompleted(Outcome.From(new RpcException(new Status(StatusCode.ResourceExhausted, "x"), new Metadata { { "x-mesh-reject-reason", "rate-limited" } })), TimeSpan.FromMilliseconds(1));
            timeline.OnInterval(TimeSpan.FromSeconds(second), [(stats, stats.TakeInterval(TimeSpan.FromSeconds(second), TimeSpan.FromSeconds(1)))]);
        }

        // The gateway's route bulkhead shares the name "reporting" with the service's: shown per process.
        timeline.OnScrape(new Scrape(new Uri("http://127.0.0.1:9080"), "gateway", 1.0, PrometheusText.Parse("""
            meshbulkheads_bulkhead_active_requests{meshbulkheads_bulkhead="reporting"} 9
            meshbulkheads_bulkhead_permit_limit{meshbulkheads_bulkhead="reporting"} 64
            """)));
        foreach (var (at, queued) in new[] { (1.0, 3), (2.0, 7) })
        {
            timeline.OnScrape(new Scrape(new Uri("http://127.0.0.1:9082"), "reporting", at, PrometheusText.Parse($$"""
                meshbulkheads_bulkhead_queued_requests{meshbulkheads_bulkhead="reporting"} {{queued}}
                meshbulkheads_bulkhead_queue_oldest_age_seconds{meshbulkheads_bulkhead="reporting"} 0.25
                meshbulkheads_bulkhead_active_requests{meshbulkheads_bulkhead="reporting"} 4
                meshbulkheads_bulkhead_permit_limit{meshbulkheads_bulkhead="reporting"} 4
                """)));
        }

        timeline.Result = MeshLoadAppTests.Run() with { Streams = [ThresholdTests.Result("reporting")] };

        // Act
        var html = HtmlReport.Render([timeline]);

        // Assert: nothing to fetch (no URL at all: inline SVG needs no namespace either).
        Assert.DoesNotMatch(ExternalReference(), html);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(6, SvgCount().Count(html));
        foreach (var caption in new[]
        {
            "Latency percentiles over time: reporting: p50, p90, p99",
            "Goodput vs offered: reporting offered, reporting goodput",
            "Rejections by reason over time: reporting RESOURCE_EXHAUSTED/rate-limited",
            "Queue depth per bulkhead (scraped): reporting",
            "Oldest queue age per bulkhead (scraped): reporting",
            "Permits in use per bulkhead (scraped): gateway/reporting (limit 64), reporting/reporting (limit 4)",
        })
        {
            Assert.Contains($"<figcaption>{caption}</figcaption>", html, StringComparison.Ordinal);
        }

        Assert.Contains("id=\"meshload-result\"", html, StringComparison.Ordinal);
        // Every plot's clip paths are its own (inline SVGs share the page's ids).
        var ids = Regex.Matches(html, "<clipPath id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Render_NoScrapes_SaysSoInsteadOfEmptyPlots()
    {
        // Arrange
        var timeline = new RunTimeline("run") { Result = MeshLoadAppTests.Run() };

        // Act
        var html = HtmlReport.Render([timeline]);

        // Assert
        Assert.Contains("No scrapes of the processes' /metrics during this run", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(ExternalReference(), html);
    }

    // Any URL at all, a src attribute, a style sheet link, an import, or a url() that is not a local #fragment.
    [GeneratedRegex(@"https?://|//[a-z0-9-]+\.[a-z]|\bsrc\s*=|<link\b|@import|url\(\s*['""]?(?!#)", RegexOptions.IgnoreCase)]
    internal static partial Regex ExternalReference();

    [GeneratedRegex("<svg[ >]")]
    private static partial Regex SvgCount();
}
