using MeshBulkheads.Testing.Prometheus;

namespace MeshBulkheads.EndToEnd.Tests.Autoscaling;

/// <summary>
/// What the HPA reads through prometheus-adapter, end to end on this machine: the adapter's metricsQuery
/// (k8s/observability/prometheus-adapter-values.yaml) rendered as the adapter renders it, evaluated by a
/// real Prometheus scraping real service processes. One sample per pod, 0 from start, above the target
/// under a queueing load, and the HPA's formula asks for more replicas then, and for fewer once idle.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AutoscalingSignalTests(AutoscalingMesh mesh) : IClassFixture<AutoscalingMesh>, IDisposable
{
    public const string QueueAge = "meshbulkheads_queue_age_seconds";
    public const string Saturation = "meshbulkheads_saturation_ratio";

    /// <summary>render's targets in helm/meshbulkheads/values.yaml (<c>autoscaling.targets.render</c>).</summary>
    public const double RenderQueueAgeTarget = 1.0;

    public const double RenderSaturationTarget = 0.8;

    // ≈ 1.5 s on one worker here (render README): a queue of three stands for seconds.
    private static readonly RenderRequest Heavy = new() { Width = 512, Height = 512, Iterations = 2000 };
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly (string Pod, string Bulkhead)[] ServiceBulkheads =
    [
        ("payments-0", "payments-charge"),
        ("payments-0", "payments-read"),
        ("render-0", "render"),
        ("render-1", "render"),
        ("reporting-0", "reporting"),
        ("reporting-0", "reporting-fanout"),
    ];

    [Fact]
    public void Gauges_BeforeAnyRequest_EveryServiceBulkheadExportsQueueAgeZeroAndItsPermitLimit()
    {
        // Arrange
        _ = mesh.Prometheus;

        // Act
        var ages = mesh.GaugesAtStart["meshbulkheads_bulkhead_queue_oldest_age_seconds"];
        var limits = mesh.GaugesAtStart["meshbulkheads_bulkhead_permit_limit"];
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"active_requests before any request: {(mesh.GaugesAtStart["meshbulkheads_bulkhead_active_requests"] is { Count: > 0 } a ? string.Join("; ", a) : "(no series)")}");

        // Assert: the bulkheads exist from start, so a new pod is never a missing series to the HPA.
        Assert.Equal(ServiceBulkheads.Order(), ages.Select(Key).Order());
        Assert.All(ages, s => Assert.Equal(0, s.Value));
        Assert.Equal(ServiceBulkheads.Order(), limits.Select(Key).Order());
        Assert.All(limits, s => Assert.True(s.Value >= 1, $"permit limit {s}"));
    }

    [Theory]
    [InlineData(QueueAge)]
    [InlineData(Saturation)]
    public void AdapterQuery_BeforeAnyRequest_OneZeroSamplePerPod(string metric)
    {
        // Arrange
        _ = mesh.Prometheus;

        // Act
        var render = mesh.IdleAtStart[(metric, "render")];
        var reporting = mesh.IdleAtStart[(metric, "reporting")];
        var payments = mesh.IdleAtStart[(metric, "payments")];

        // Assert: labelled by pod only (what the adapter maps to pods), never summed across them.
        Assert.Equal(AutoscalingMesh.RenderPods, render.Select(s => s["pod"]).Order(StringComparer.Ordinal));
        Assert.Equal(AutoscalingMesh.ReportingPods, reporting.Select(s => s["pod"]));
        Assert.Equal(AutoscalingMesh.PaymentsPods, payments.Select(s => s["pod"]));
        Assert.All(render.Concat(reporting).Concat(payments), s =>
        {
            Assert.Equal(["pod"], s.Labels.Keys);
            Assert.Equal(0, s.Value);
        });
    }

    [Fact]
    public async Task AdapterQueries_QueueingLoadThenIdle_HpaAsksForMoreReplicasThenFewer()
    {
        // Arrange
        var prometheus = mesh.Prometheus;
        var ct = TestContext.Current.CancellationToken;
        var queueAge = PrometheusAdapterRule.Get(QueueAge).Render(AutoscalingMesh.Namespace, [.. AutoscalingMesh.RenderPods]);
        var saturation = PrometheusAdapterRule.Get(Saturation).Render(AutoscalingMesh.Namespace, [.. AutoscalingMesh.RenderPods]);
        RenderService.RenderServiceClient[] clients = [new(mesh.Render0.CreateChannel()), new(mesh.Render1.CreateChannel())];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var output = TestContext.Current.TestOutputHelper;
        const int current = 2;

        // Act 1: four heavy renders on each pod's single worker (spread as the gateway spreads them): one
        // runs, three queue for seconds. (A hot pod next to an idle one averages out: the HPA's target is
        // per pod on average, so 1.9 s + 0 s against 1 s is within its tolerance.)
        var calls = clients.SelectMany(c => Enumerable.Range(0, 4).Select(_ => CallStatus.OfAsync(c.RenderAsync(Heavy, deadline: deadline, cancellationToken: ct).ResponseAsync))).ToList();
        var ageUnderLoad = await prometheus.WaitUntilAsync(queueAge, r => r.Count == 2 && r.All(s => s.Value > RenderQueueAgeTarget), Bound, ct);
        var saturationUnderLoad = await prometheus.QueryAsync(saturation, ct);
        var desiredUnderLoad = Math.Max(
            HpaFormula.DesiredReplicas(current, [.. ageUnderLoad.Select(s => s.Value)], RenderQueueAgeTarget),
            HpaFormula.DesiredReplicas(current, [.. saturationUnderLoad.Select(s => s.Value)], RenderSaturationTarget));

        var outcomes = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), ct);

        // Act 2: drained.
        var ageIdle = await prometheus.WaitUntilAsync(queueAge, r => r.Count == 2 && r.All(s => s.Value == 0), Bound, ct);
        var saturationIdle = await prometheus.WaitUntilAsync(saturation, r => r.Count == 2 && r.All(s => s.Value == 0), Bound, ct);
        var desiredIdle = Math.Max(
            HpaFormula.DesiredReplicas(current, [.. ageIdle.Select(s => s.Value)], RenderQueueAgeTarget),
            HpaFormula.DesiredReplicas(current, [.. saturationIdle.Select(s => s.Value)], RenderSaturationTarget));

        // Assert
        output?.WriteLine($"under load: queue age {string.Join("; ", ageUnderLoad)}, saturation {string.Join("; ", saturationUnderLoad)} → desired {desiredUnderLoad} of {current}");
        output?.WriteLine($"idle: queue age {string.Join("; ", ageIdle)}, saturation {string.Join("; ", saturationIdle)} → desired {desiredIdle}");
        output?.WriteLine($"outcomes: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} × {g.Count()}"))}");
        Assert.All(ageUnderLoad, s => Assert.True(s.Value <= AutoscalingMesh.RenderMaxQueueTime.TotalSeconds + 1, $"queue age beyond MaxQueueTime: {s}"));
        Assert.Equal(1, Pod(saturationUnderLoad, "render-0"));
        Assert.Equal(1, Pod(saturationUnderLoad, "render-1"));
        Assert.True(desiredUnderLoad > current, $"the HPA would not scale out: {desiredUnderLoad}");
        Assert.True(desiredIdle < current, $"the HPA would not scale in: {desiredIdle}");
        Assert.Contains(StatusCode.OK, outcomes);
    }

    public void Dispose() => mesh.ReportOutputIfTestFailed();

    private static (string Pod, string Bulkhead) Key(PrometheusSample s) => (s["pod"], s["meshbulkheads_bulkhead"]);

    private static double Pod(IReadOnlyList<PrometheusSample> samples, string pod) => samples.Single(s => s["pod"] == pod).Value;
}
