
namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>
/// Thread-pool lag (<c>meshbulkheads_threadpool_lag_seconds</c>, a work item queued every 100 ms) of a
/// real render process under a burst of heavy renders: low while the dedicated workers are saturated,
/// higher when the same renders run inline on the request threads (the <c>Render:Pitfalls:Inline</c> pitfall).
/// </summary>
/// <remarks>
/// Both processes get the same admission config. The worker count (= the render bulkhead's permits) is
/// set to the burst size, 2 × cores, so every render of the burst is admitted at once in both modes:
/// the only difference is the thread it runs on. Inline, that is more blocked thread-pool threads than
/// the pool's minimum (= cores), so queued work — the lag probe, but also I/O completions and timers —
/// waits for the pool to inject threads. Assertions compare the two runs; no absolute timing is asserted
/// beyond "the dedicated run's slow samples are a minority".
/// </remarks>
[Collection(EndToEndCollection.Name)]
public sealed class ThreadPoolLagTests : IAsyncDisposable
{
    private const string LagMetric = "meshbulkheads_threadpool_lag_seconds";

    // A sample above this counts as slow: one probe interval.
    private const string SlowBucket = "0.1";

    private static readonly RenderRequest Heavy = new() { Width = 512, Height = 512, Iterations = 2000 };
    private static readonly RenderRequest Warmup = new() { Width = 16, Height = 16, Iterations = 10 };

    private readonly List<HostProcess> _processes = [];

    [Fact]
    public async Task Render_HeavyBurst_LagStaysLowOnDedicatedWorkersAndRisesInline()
    {
        // Arrange
        var burst = 2 * Environment.ProcessorCount;
        var configuration = new Dictionary<string, string?>
        {
            ["Render:WorkerCount"] = burst.ToString(CultureInfo.InvariantCulture),
            ["Bulkheads:render:QueueLimit"] = burst.ToString(CultureInfo.InvariantCulture),
        };

        // Act: one process after the other, so they never compete for the cores.
        var dedicated = await MeasureBurstAsync(configuration, burst);
        var inline = await MeasureBurstAsync(new Dictionary<string, string?>(configuration) { ["Render:Pitfalls:Inline"] = "true" }, burst);

        // Assert
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"dedicated: {dedicated}");
        output?.WriteLine($"inline:    {inline}");
        Assert.True(dedicated.Samples > 0, $"The lag probe recorded nothing during the dedicated burst: {dedicated}");
        Assert.True(dedicated.SlowSamples * 2 < dedicated.Samples, $"Dedicated workers should keep most lag samples under {SlowBucket} s: {dedicated}");
        Assert.True(inline.SlowSamples > dedicated.SlowSamples, $"Inline renders should produce more slow lag samples than dedicated workers. Dedicated: {dedicated}; inline: {inline}");
        Assert.True(inline.LagSumSeconds > dedicated.LagSumSeconds, $"Inline renders should add more total lag. Dedicated: {dedicated}; inline: {inline}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.ReportOutputIfTestFailed();
            await process.DisposeAsync();
        }
    }

    private async Task<LagDelta> MeasureBurstAsync(Dictionary<string, string?> configuration, int burst)
    {
        var ct = TestContext.Current.CancellationToken;
        var render = await HostProcess.StartAsync(MeshProcesses.RenderProject, configuration, ct);
        _processes.Add(render);
        var client = new RenderService.RenderServiceClient(render.CreateChannel());
        using var admin = render.CreateAdminClient();

        // JIT the render path first, so start-up work is not counted as lag.
        await client.RenderAsync(Warmup, deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: ct).ResponseAsync.DefaultTimeout();
        var before = await ScrapeAsync(admin, ct);

        var started = DateTime.UtcNow;
        var calls = Enumerable.Range(0, burst)
            .Select(_ => client.RenderAsync(Heavy, deadline: started.AddSeconds(25), cancellationToken: ct).ResponseAsync)
            .ToArray();
        var outcomes = await Task.WhenAll(calls.Select(c => Record.ExceptionAsync(() => c).AsTask())).DefaultTimeout();
        var elapsed = DateTime.UtcNow - started;

        // Let the probes queued at the end of the burst run and be recorded.
        await Task.Delay(300, ct);
        var after = await ScrapeAsync(admin, ct);
        await render.StopAsync();

        var failures = outcomes.OfType<RpcException>().Select(e => e.StatusCode.ToString()).ToArray();
        Assert.True(failures.Length == 0, $"Every render of the burst should succeed; failed with: {string.Join(", ", failures)}");
        return new LagDelta(after.Count - before.Count, after.Slow - before.Slow, after.Sum - before.Sum, elapsed);
    }

    private static async Task<(double Count, double Slow, double Sum)> ScrapeAsync(HttpClient admin, CancellationToken ct)
    {
        var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct).DefaultTimeout();
        double count = 0, withinSlowBucket = 0, sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(LagMetric + "_count", StringComparison.Ordinal))
            {
                count = Value(line);
            }
            else if (line.StartsWith(LagMetric + "_sum", StringComparison.Ordinal))
            {
                sum = Value(line);
            }
            else if (line.StartsWith(LagMetric + "_bucket", StringComparison.Ordinal) && line.Contains($"le=\"{SlowBucket}\"", StringComparison.Ordinal))
            {
                withinSlowBucket = Value(line);
            }
        }

        return (count, count - withinSlowBucket, sum);
    }

    private static double Value(string line) =>
        double.Parse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);

    private sealed record LagDelta(double Samples, double SlowSamples, double LagSumSeconds, TimeSpan Burst)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{Samples} samples, {SlowSamples} above {SlowBucket} s, lag sum {LagSumSeconds:0.000} s, burst {Burst.TotalSeconds:0.00} s");
    }
}
