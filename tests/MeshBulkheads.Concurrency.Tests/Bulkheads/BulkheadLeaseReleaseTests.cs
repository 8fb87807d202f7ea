
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadLeaseReleaseTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private Bulkhead Create(int permitLimit) =>
        new("test", new BulkheadOptions { PermitLimit = permitLimit, QueueLimit = 0 }, _time);

    [Fact]
    public async Task Dispose_SecondDisposeAfterAnotherGrant_ReleasesNothingMore()
    {
        // Arrange: the first holder's lease is released, then two more grants happen (a pooled lease would be reissued).
        using var bulkhead = Create(permitLimit: 2);
        var first = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        first.Dispose();
        var second = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var third = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Act: the first holder disposes again.
        first.Dispose();
        var extra = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Assert: both live holders keep their permits; the limit still holds.
        Assert.True(second.IsAcquired);
        Assert.True(third.IsAcquired);
        Assert.Equal(2, bulkhead.ActiveCount);
        Assert.False(extra.IsAcquired);
        second.Dispose();
        third.Dispose();
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task Dispose_RateLimiterPathTwiceAfterReuse_IdempotentPerGrant()
    {
        // Arrange: the RateLimiter surface, where callers expect an idempotent Dispose.
        using var bulkhead = Create(permitLimit: 1);
        var first = bulkhead.AttemptAcquire();
        first.Dispose();
        var second = bulkhead.AttemptAcquire();

        // Act
        first.Dispose();
        var third = bulkhead.AttemptAcquire();

        // Assert
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.Equal(1, bulkhead.ActiveCount);
        second.Dispose();
        await Task.CompletedTask;
    }
}
