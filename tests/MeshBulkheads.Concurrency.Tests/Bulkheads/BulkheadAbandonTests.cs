
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadAbandonTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Abandon_ThenDispose_ReleasesOnceAndLeavesServiceTimeAlone()
    {
        // Arrange: a 100 ms lease that did work teaches the service time.
        using var bulkhead = new Bulkhead("test", new BulkheadOptions { PermitLimit = 1, QueueLimit = 4 }, _time);
        var worked = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        worked.Dispose();
        var learned = bulkhead.EstimateQueueWait();

        // Act: a fast failure gives its permit back without a sample, then is disposed as well.
        var failed = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        _time.Advance(TimeSpan.FromTicks(1_000));
        failed.Abandon();
        failed.Dispose();
        failed.Abandon();

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(100), learned);
        Assert.Equal(learned, bulkhead.EstimateQueueWait());
        Assert.Equal(0, bulkhead.ActiveCount);
        using var next = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        Assert.True(next.IsAcquired);
    }
}
