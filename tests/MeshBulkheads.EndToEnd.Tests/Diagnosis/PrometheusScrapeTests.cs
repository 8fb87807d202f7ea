
namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// A real Prometheus scrapes the four admin ports of a running mesh; the tests evaluate the PromQL the
/// autoscaler, the recording rules and the dashboard use, and see it move under load. Also the
/// "Queue grows during spikes" row of docs/diagnosis.md: a render spike raises queue depth and oldest
/// age, sheds the overflow (by reason), and the age returns to 0 once the spike has drained.
/// </summary>
[Collection(DiagnosisCollection.Name)]
public sealed class PrometheusScrapeTests(DiagnosisMesh fixture) : IDisposable
{
    /// <summary>What a HorizontalPodAutoscaler (through prometheus-adapter) scales render on: per pod, never summed.</summary>
    public const string AutoscalingQueueAge =
        "max by (namespace, pod) (meshbulkheads_bulkhead_queue_oldest_age_seconds{service=\"render\", meshbulkheads_bulkhead=\"render\"})";

    /// <summary>The recording rule (rules.yaml) the QueueAgeHigh alert reads.</summary>
    public const string RecordedQueueAge = "meshbulkheads:bulkhead_queue_oldest_age:max{service=\"render\", meshbulkheads_bulkhead=\"render\"}";

    /// <summary>The dashboard's "Queue depth" panel, for render.</summary>
    public const string DashboardQueueDepth = "sum by (service, meshbulkheads_bulkhead) (meshbulkheads_bulkhead_queued_requests{service=\"render\"})";

    /// <summary>The recording rule behind the dashboard's "Shed rate by reason" for render.</summary>
    public const string RecordedShedRate = "meshbulkheads:bulkhead_shed:rate1m{service=\"render\", meshbulkheads_bulkhead=\"render\"}";

    private const string QueueFullSeries =
        "meshbulkheads_bulkhead_requests_total{service=\"render\", meshbulkheads_bulkhead=\"render\", meshbulkheads_result=\"queue_full\"}";

    // ≈ 1.5 s on one worker here (render README): the queue stands for seconds, not milliseconds.
    private static readonly RenderRequest Heavy = new() { Width = 512, Height = 512, Iterations = 2000 };
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Scrape_FourAdminPorts_EveryTargetUpWithItsServiceLabel()
    {
        // Arrange
        var prometheus = fixture.Prometheus;
        var ct = TestContext.Current.CancellationToken;

        // Act
        var up = await prometheus.WaitForTargetsUpAsync(4, Bound, ct);
        var lagPerService = await prometheus.WaitUntilAsync(
            "count by (service) (meshbulkheads_threadpool_lag_seconds_count)", r => r.Count == 4, Bound, ct);

        // Assert
        Assert.Equal(["gateway", "payments", "render", "reporting"], up.Select(s => s["service"]).Order(StringComparer.Ordinal));
        Assert.All(up, s => Assert.Equal("test", s["namespace"]));
        Assert.Equal(["gateway", "payments", "render", "reporting"], lagPerService.Select(s => s["service"]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RenderSpike_AboveCapacity_QueueAgeDepthAndShedRateRiseThenAgeReturnsToZero()
    {
        // Arrange
        var prometheus = fixture.Prometheus;
        var ct = TestContext.Current.CancellationToken;
        await prometheus.WaitForTargetsUpAsync(4, Bound, ct);
        var client = new RenderService.RenderServiceClient(fixture.Mesh.Render.CreateChannel());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var output = TestContext.Current.TestOutputHelper;

        // Act 1: a spike of workers + queue + 3 renders: one runs, 16 queue, the rest are shed (queue_full).
        var firstWave = Enumerable.Range(0, DiagnosisMesh.RenderWorkers + DiagnosisMesh.RenderQueueLimit + 3)
            .Select(_ => CallStatus.OfAsync(client.RenderAsync(Heavy, deadline: deadline, cancellationToken: ct).ResponseAsync))
            .ToList();
        var age = await prometheus.WaitUntilAsync(AutoscalingQueueAge, r => r.Count == 1 && r[0].Value > 0, Bound, ct);
        var recordedAge = await prometheus.WaitUntilAsync(RecordedQueueAge, r => r.Count == 1 && r[0].Value > 0, Bound, ct);
        var depth = await prometheus.WaitUntilAsync(DashboardQueueDepth, r => r.Count == 1 && r[0].Value > 0, Bound, ct);

        // rate() needs two samples of the series: wait until Prometheus has one, then overflow again.
        await prometheus.WaitUntilAsync(QueueFullSeries, r => r.Count == 1, Bound, ct);
        var secondWave = Enumerable.Range(0, 6)
            .Select(_ => CallStatus.OfAsync(client.RenderAsync(Heavy, deadline: deadline, cancellationToken: ct).ResponseAsync))
            .ToList();
        var shed = await prometheus.WaitUntilAsync(
            RecordedShedRate, r => r.Any(s => s["meshbulkheads_result"] == "queue_full" && s.Value > 0), Bound, ct);

        var outcomes = await Task.WhenAll(firstWave.Concat(secondWave)).WaitAsync(TimeSpan.FromSeconds(60), ct);
        var drained = await prometheus.WaitUntilAsync(AutoscalingQueueAge, r => r.Count == 1 && r[0].Value == 0, Bound, ct);
        var recordedDrained = await prometheus.WaitUntilAsync(RecordedQueueAge, r => r.Count == 1 && r[0].Value == 0, Bound, ct);

        // Assert
        output?.WriteLine($"outcomes: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} × {g.Count()}"))}");
        output?.WriteLine($"age under load: {age[0]}; recorded: {recordedAge[0]}; depth: {depth[0]}; shed: {string.Join("; ", shed)}");
        Assert.Equal("render-0", age[0]["pod"]);
        Assert.True(age[0].Value > 0 && age[0].Value <= DiagnosisMesh.RenderMaxQueueTime.TotalSeconds + 1, $"queue age out of range: {age[0]}");
        Assert.True(depth[0].Value is > 0 and <= DiagnosisMesh.RenderQueueLimit, $"queue depth out of range: {depth[0]}");
        Assert.Contains(StatusCode.OK, outcomes);
        Assert.Contains(StatusCode.Unavailable, outcomes);
        Assert.All(outcomes, o => Assert.True(o is StatusCode.OK or StatusCode.Unavailable, $"unexpected status {o}"));
        Assert.Equal(0, drained[0].Value);
        Assert.Equal(0, recordedDrained[0].Value);
    }

    public void Dispose() => fixture.ReportOutputIfTestFailed();
}
