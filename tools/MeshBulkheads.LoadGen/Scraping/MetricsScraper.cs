using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace MeshBulkheads.LoadGen.Scraping;

/// <summary>One scrape of one process.</summary>
internal sealed record Scrape(Uri Target, string Process, double AtSeconds, IReadOnlyList<PromSample> Samples);

/// <summary>Receives scrapes (the report's timeline, the watch view).</summary>
internal interface IScrapeSink
{
    void OnScrape(Scrape scrape);
}

/// <summary>
/// Scrapes every process's admin <c>/metrics</c> once per interval on its own task, never on the
/// send schedule's. Through IHttpClientFactory with a resilience handler made for scraping: one
/// attempt, timed out below the interval, no retry — a late scrape is dropped and counted, because
/// a retry would land in the next interval and blur both.
/// </summary>
internal sealed class MetricsScraper : IAsyncDisposable
{
    public const string ClientName = "meshload-scrape";
    private readonly ServiceProvider _services;
    private readonly IHttpClientFactory _clients;
    private readonly IReadOnlyList<Uri> _targets;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly IScrapeSink _sink;
    private readonly CancellationTokenSource _stop = new();
    private readonly long _start;
    private Task _loop = Task.CompletedTask;
    private long _dropped;
    private long _failed;

    private MetricsScraper(IReadOnlyList<Uri> targets, TimeSpan interval, TimeProvider time, IScrapeSink sink)
    {
        _targets = targets;
        _interval = interval;
        _time = time;
        _sink = sink;
        _start = time.GetTimestamp();
        var services = new ServiceCollection();
        services.AddSingleton(time);
        AddScrapeClient(services, interval);
        _services = services.BuildServiceProvider();
        _clients = _services.GetRequiredService<IHttpClientFactory>();
    }

    /// <summary>Scrapes that took longer than their attempt timeout (dropped, not retried).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Scrapes that failed outright (connection refused, HTTP error).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>The scrape client: attempt timeout at 80% of the interval, no retry, no circuit breaker.</summary>
    public static IHttpClientBuilder AddScrapeClient(IServiceCollection services, TimeSpan interval)
    {
        var builder = services.AddHttpClient(ClientName, client =>
        {
            // The resilience handler owns the timeout; HttpClient's own 100 s would only hide it.
            client.Timeout = Timeout.InfiniteTimeSpan;
            client.DefaultRequestVersion = System.Net.HttpVersion.Version11;
        });
        builder.AddResilienceHandler("scrape", pipeline => pipeline.AddTimeout(new HttpTimeoutStrategyOptions
        {
            Timeout = TimeSpan.FromTicks((long)(interval.Ticks * 0.8)),
        }));
        return builder;
    }

    public static MetricsScraper Start(IReadOnlyList<Uri> targets, TimeSpan interval, TimeProvider time, IScrapeSink sink)
    {
        var scraper = new MetricsScraper(targets, interval, time, sink);
        scraper._loop = Task.Run(scraper.LoopAsync);
        return scraper;
    }

    /// <summary>One round: every target at once; returns when all have answered, timed out or failed.</summary>
    public Task ScrapeOnceAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_targets.Select(t => ScrapeAsync(t, cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            do
            {
                await ScrapeOnceAsync(_stop.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ScrapeAsync(Uri target, CancellationToken cancellationToken)
    {
        var client = _clients.CreateClient(ClientName);
        try
        {
            var text = await client.GetStringAsync(new Uri(target, "/metrics"), cancellationToken).ConfigureAwait(false);
            var samples = PrometheusText.Parse(text, name => name.StartsWith("meshbulkheads_", StringComparison.Ordinal) || name == "target_info");
            var process = samples.FirstOrDefault(s => s.Name == "target_info")?.Label("service_name") is { Length: > 0 } service ? service : DefaultName(target);
            _sink.OnScrape(new Scrape(target, process, _time.GetElapsedTime(_start).TotalSeconds, samples));
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            Interlocked.Increment(ref _dropped);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref _failed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static string DefaultName(Uri target) => target.Port switch
    {
        9080 => "gateway",
        9081 => "payments",
        9082 => "reporting",
        9083 => "render",
        _ => target.Authority,
    };
}
