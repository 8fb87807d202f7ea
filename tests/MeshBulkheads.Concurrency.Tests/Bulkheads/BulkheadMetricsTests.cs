
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadMetricsTests
{
    private static ServiceProvider CreateServices(FakeTimeProvider time) =>
        new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddBulkheads()
            .AddBulkhead("render", o =>
            {
                o.PermitLimit = 1;
                o.QueueLimit = 1;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
            })
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
}
