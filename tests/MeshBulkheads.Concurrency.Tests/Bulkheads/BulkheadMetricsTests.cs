
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadMetricsTests
{
    private static ServiceProvider CreateServices(FakeTimeProvider time) =>
        CreateServices(time, "render", o =>
        {
            o.PermitLimit = 1;
            o.QueueLimit = 1;
            o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
        });

    private static ServiceProvider CreateServices(FakeTimeProvider time, string name, Action<BulkheadOptions> configure) =>
        new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddBulkheads()
            .AddBulkhead(name, configure)
            .Services.BuildServiceProvider();

    [Fact]
    public async Task AcquireAsync_AcquireQueueShed_RecordsEveryInstrumentWithTags()
    {
        // Arrange
        var time = new FakeTimeProvider();
        await using var services = CreateServices(time);
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("render");
        var meterFactory = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var requests = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        using var active = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.active_requests");
        using var queued = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.queued_requests");
        using var timeInQueue = new MetricCollector<double>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.request.time_in_queue");
        using var oldestAge = new MetricCollector<double>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.queue.oldest_age");
        using var permitLimit = new MetricCollector<int>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.permit_limit");

        // Act
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var waiting = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();
        var full = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        time.Advance(TimeSpan.FromMilliseconds(200));
        oldestAge.RecordObservableInstruments();
        permitLimit.RecordObservableInstruments();
        time.Advance(TimeSpan.FromMilliseconds(300));
        var shed = await waiting.DefaultTimeout();
        held.Dispose();

        // Assert
        Assert.Equal(BulkheadRejectionReason.QueueFull, full.Reason);
        Assert.Equal(BulkheadRejectionReason.QueueTimeout, shed.Reason);
        Assert.Equal(
            ["acquired", "queue_full", "queue_timeout"],
            requests.GetMeasurementSnapshot().Select(m => (string)m.Tags[BulkheadConstants.ResultTag]!).Order());
        Assert.All(requests.GetMeasurementSnapshot(), m => Assert.Equal("render", m.Tags[BulkheadConstants.BulkheadTag]));
        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(active.GetMeasurementSnapshot(), m => Assert.Equal("render", m.Tags[BulkheadConstants.BulkheadTag]));
        Assert.Equal([1L, -1L], queued.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(queued.GetMeasurementSnapshot(), m => Assert.Equal("render", m.Tags[BulkheadConstants.BulkheadTag]));
        var queueTime = Assert.Single(timeInQueue.GetMeasurementSnapshot());
        Assert.Equal(0.5, queueTime.Value, 6);
        Assert.Equal("render", queueTime.Tags[BulkheadConstants.BulkheadTag]);
        Assert.Equal("queue_timeout", queueTime.Tags[BulkheadConstants.ResultTag]);
        var age = Assert.Single(oldestAge.GetMeasurementSnapshot());
        Assert.Equal(0.2, age.Value, 6);
        Assert.Equal("render", age.Tags[BulkheadConstants.BulkheadTag]);
        var limit = Assert.Single(permitLimit.GetMeasurementSnapshot());
        Assert.Equal(1, limit.Value);
        Assert.Equal("render", limit.Tags[BulkheadConstants.BulkheadTag]);
    }

    [Fact]
    public async Task BoundGauges_TwoTenantsHoldAndQueue_QueueLimitAndTenantTableSizeExportedAndTheTableEmptiesOnRelease()
    {
        // Arrange: one permit and a queue of two; tenant a holds the permit, b and a wait.
        var time = new FakeTimeProvider();
        await using var services = CreateServices(time, "reports", o =>
        {
            o.PermitLimit = 1;
            o.QueueLimit = 2;
            o.MaxQueueTime = TimeSpan.FromSeconds(5);
        });
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("reports");
        var meterFactory = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var queueLimit = new MetricCollector<int>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.queue_limit");
        using var tenants = new MetricCollector<int>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.tenants");
        int Observed(MetricCollector<int> gauge)
        {
            gauge.RecordObservableInstruments();
            var last = gauge.LastMeasurement!;
            Assert.Equal("reports", last.Tags[BulkheadConstants.BulkheadTag]);
            return last.Value;
        }

        // Act
        var idle = Observed(tenants);
        var held = await bulkhead.AcquireAsync(new BulkheadRequest(null, "a", BulkheadCriticality.Critical));
        var waitingB = bulkhead.AcquireAsync(new BulkheadRequest(null, "b", BulkheadCriticality.Critical)).AsTask();
        var waitingA = bulkhead.AcquireAsync(new BulkheadRequest(null, "a", BulkheadCriticality.Critical)).AsTask();
        var busy = Observed(tenants);
        held.Dispose();
        (await waitingB.DefaultTimeout()).Dispose();
        (await waitingA.DefaultTimeout()).Dispose();

        // Assert
        Assert.Equal(2, Observed(queueLimit));
        Assert.Equal(0, idle);
        Assert.Equal(2, busy);
        Assert.Equal(0, Observed(tenants));
    }

    [Fact]
    public async Task QueueLimit_UnboundedQueuePitfall_ExportedAsNoBound()
    {
        // Arrange
        await using var services = CreateServices(new FakeTimeProvider(), "reports", o =>
        {
            o.QueueLimit = 2;
            o.Pitfalls.UnboundedQueue = true;
        });
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("reports");
        using var queueLimit = new MetricCollector<int>(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.queue_limit");

        // Act
        queueLimit.RecordObservableInstruments();

        // Assert
        Assert.Equal(int.MaxValue, bulkhead.QueueLimit);
        Assert.Equal(int.MaxValue, queueLimit.LastMeasurement!.Value);
    }
}
