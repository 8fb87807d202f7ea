using MeshBulkheads.LoadGen.Scraping;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests.Scraping;

public class SaturationViewTests
{
    [Fact]
    public void Parse_PrometheusText_NamesLabelsValues()
    {
        // Act
        var samples = PrometheusText.Parse("""
            # HELP meshbulkheads_bulkhead_active_requests In progress.
            # TYPE meshbulkheads_bulkhead_active_requests gauge
            meshbulkheads_bulkhead_active_requests{otel_scope_name="MeshBulkheads.Concurrency",meshbulkheads_bulkhead="render"} 4 1700000000000
            meshbulkheads_bulkhead_queued_requests{meshbulkheads_bulkhead="a \"quoted\", name"} 2
            meshbulkheads_threadpool_lag_seconds_bucket{le="+Inf"} 12
            """);

        // Assert
        Assert.Equal(3, samples.Count);
        Assert.Equal(("render", 4.0), (samples[0].Label("meshbulkheads_bulkhead"), samples[0].Value));
        Assert.Equal("a \"quoted\", name", samples[1].Label("meshbulkheads_bulkhead"));
        Assert.Equal(("+Inf", 12.0), (samples[2].Label("le"), samples[2].Value));
    }

    [Fact]
    public void Render_TwoScrapes_ActiveLimitQueuedAgeShedRateTenantsAndLag()
    {
        // Arrange: one second apart; 30 queue_full and 10 rate-limit rejections in between.
        var target = new Uri("http://127.0.0.1:9083");
        var view = new SaturationView();
        view.OnScrape(new Scrape(target, "render", 1, PrometheusText.Parse(Metrics(queueFull: 10, rejected: 5, lagSum: 0.010, lagCount: 10))));
        view.OnScrape(new Scrape(target, "render", 2, PrometheusText.Parse(Metrics(queueFull: 40, rejected: 15, lagSum: 0.030, lagCount: 20))));
        var console = new TestConsole();
        console.Profile.Width = 250;

        // Act
        console.Write(view.Render([target, new Uri("http://127.0.0.1:9999")], dropped: 1, failed: 2));

        // Assert
        // active/limit, oldest queued age, queue_full per second, a tenant's rejections per second, mean lag, scrape health, the silent target.
        string[] shown = ["2/2", "250ms", "queue_full 30", "initech rejected 10/s", "render 2.0ms", "late scrapes dropped 1, failed 2", "no scrape yet"];
        Assert.All(shown, fragment => Assert.Contains(fragment, console.Output, StringComparison.Ordinal));
    }

    private static string Metrics(int queueFull, int rejected, double lagSum, int lagCount) => $$"""
        meshbulkheads_bulkhead_active_requests{meshbulkheads_bulkhead="render"} 2
        meshbulkheads_bulkhead_permit_limit{meshbulkheads_bulkhead="render"} 2
        meshbulkheads_bulkhead_queued_requests{meshbulkheads_bulkhead="render"} 3
        meshbulkheads_bulkhead_queue_oldest_age_seconds{meshbulkheads_bulkhead="render"} 0.25
        meshbulkheads_bulkhead_requests_total{meshbulkheads_bulkhead="render",meshbulkheads_bulkhead_result="acquired"} 100
        meshbulkheads_bulkhead_requests_total{meshbulkheads_bulkhead="render",meshbulkheads_bulkhead_result="queue_full"} {{queueFull}}
        meshbulkheads_gateway_rate_limit_decisions_total{meshbulkheads_tenant="initech",meshbulkheads_rate_limit_result="rejected"} {{rejected}}
        meshbulkheads_threadpool_lag_seconds_sum {{lagSum.ToString(System.Globalization.CultureInfo.InvariantCulture)}}
        meshbulkheads_threadpool_lag_seconds_count {{lagCount}}
        """;
}
