using System.Text.RegularExpressions;
using MeshBulkheads.LoadGen.Output;
using MeshBulkheads.LoadGen.Reporting;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Scraping;
using MeshBulkheads.LoadGen.Tests.Thresholds;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests.Reporting;

/// <summary><c>meshload compare</c> on files written the way <c>--json</c> writes them (meshload's own result types and serializer).</summary>
public sealed partial class CompareCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meshload-compare-").FullName;

    [Fact]
    public async Task Compare_TwoRunFiles_TableAndHtmlHoldBothRunsFigures()
    {
        // Arrange: as shipped, payments all OK and reporting shed; without bulkheads, payments slower and failing, reporting not shed but timing out.
        var shipped = Write("shipped", Result(
            Stream("payments", offered: 200, ok: 200, p50: 4.5, p99: 38, goodput: 20, rejected: 0, deadline: 0),
            Stream("reporting", offered: 600, ok: 120, p50: 90, p99: 410, goodput: 12, rejected: 480, deadline: 0),
            Scrape(oldestAge: 0.18, queued: 12)));
        var unbounded = Write("no-bulkheads", Result(
            Stream("payments", offered: 200, ok: 150, p50: 640, p99: 4800, goodput: 15, rejected: 0, deadline: 50),
            Stream("reporting", offered: 600, ok: 60, p50: 3900, p99: 4990, goodput: 6, rejected: 0, deadline: 540),
            Scrape(oldestAge: 0, queued: 0)));
        var report = Path.Combine(_directory, "out", "demo.html");
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["compare", shipped, unbounded, "--report", report], io, TestContext.Current.CancellationToken);

        // Assert: every figure of both runs, in the terminal table and in the one HTML file.
        Assert.Equal(ExitCodes.Pass, exit);
        var table = ((TestConsole)io.Console).Output;
        var html = await File.ReadAllTextAsync(report, TestContext.Current.CancellationToken);
        Assert.Contains($"meshload: report written to {report}", error.ToString(), StringComparison.Ordinal);
        foreach (var text in new[]
        {
            "shipped", "no-bulkheads",
            "payments success", "100.0% (200/200)", "75.0% (150/200)",
            "payments p50", "4.50 ms", "640.0 ms",
            "payments p99", "38.0 ms", "4800.0 ms",
            "reporting goodput", "12.0/s", "6.0/s",
            "reporting shed (rejected)", "480",
            "reporting deadline exceeded / errors", "0 / 0", "540 / 0",
            "oldest queue age (max scraped)", "0.180 s (reporting)", "0.000 s",
            "deepest queue (max scraped)", "12 (reporting)",
            "most in flight (max active scraped)", "8 (reporting)",
        })
        {
            Assert.Contains(text, table, StringComparison.Ordinal);
            Assert.Contains(text, html, StringComparison.Ordinal);
        }

        // One row per figure with one cell per run, in the order given.
        Assert.Matches(@"<tr><td>payments p99</td><td>38\.0 ms</td><td>4800\.0 ms</td></tr>", html);
        Assert.Equal(2, JsonBlock().Count(html));
        Assert.DoesNotMatch(HtmlReportTests.ExternalReference(), html);
    }

    [Fact]
    public async Task Compare_OneFile_Exit3()
    {
        // Arrange
        var only = Write("only", Result(Stream("payments", 1, 1, 1, 1, 1, 0, 0), Scrape(0, 0)));
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["compare", only], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("meshload: meshload compare needs at least two result files", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_FileIsNotAResult_Exit3NamingIt()
    {
        // Arrange
        var good = Write("good", Result(Stream("payments", 1, 1, 1, 1, 1, 0, 0), Scrape(0, 0)));
        var bad = Path.Combine(_directory, "bad.json");
        await File.WriteAllTextAsync(bad, "meshload: threshold FAILED", TestContext.Current.CancellationToken);
        var (io, _, error) = MeshLoadAppTests.Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["compare", good, bad], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"meshload: compare: {bad} is not meshload --json output", error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => TempDirectories.TryDelete(_directory);

    private string Write(string name, RunResult result)
    {
        var path = Path.Combine(_directory, name + ".json");
        File.WriteAllText(path, JsonOutput.Serialize(result));
        return path;
    }

    private static RunResult Result(StreamResult payments, StreamResult reporting, List<BulkheadPeak> bulkheads) =>
        MeshLoadAppTests.Run() with { Streams = [payments, reporting], Bulkheads = bulkheads };

    private static RunResult Result(StreamResult payments, List<BulkheadPeak> bulkheads) =>
        MeshLoadAppTests.Run() with { Streams = [payments], Bulkheads = bulkheads };

    private static StreamResult Stream(string name, long offered, long ok, double p50, double p99, double goodput, long rejected, long deadline) =>
        ThresholdTests.Result(name) with
        {
            Offered = offered,
            Completed = offered,
            Ok = ok,
            Rejected = rejected,
            DeadlineExceeded = deadline,
            Errors = 0,
            Goodput = goodput,
            LatencyMs = new LatencySummary(ok, p50, p99 / 2, p99, p99, p99, p50),
        };

    /// <summary>The peaks as a run takes them: from scrapes of the processes' /metrics, through the run's timeline.</summary>
    private static List<BulkheadPeak> Scrape(double oldestAge, int queued)
    {
        var timeline = new RunTimeline("run");
        foreach (var at in new[] { 1.0, 2.0 })
        {
            timeline.OnScrape(new Scrape(new Uri("http://127.0.0.1:9082"), "reporting", at, PrometheusText.Parse($$"""
                meshbulkheads_bulkhead_queued_requests{meshbulkheads_bulkhead="reporting"} {{(at == 2.0 ? queued : 0)}}
                meshbulkheads_bulkhead_queue_oldest_age_seconds{meshbulkheads_bulkhead="reporting"} {{(at == 2.0 ? oldestAge : 0).ToString(System.Globalization.CultureInfo.InvariantCulture)}}
                meshbulkheads_bulkhead_active_requests{meshbulkheads_bulkhead="reporting"} 8
                meshbulkheads_bulkhead_permit_limit{meshbulkheads_bulkhead="reporting"} 8
                """)));
        }

        return timeline.BulkheadPeaks();
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"meshload-result\">")]
    private static partial Regex JsonBlock();
}
