
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadLongLivedTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>A bulkhead whose service time one unary call of <paramref name="serviceTime"/> has taught.</summary>
    private async Task<Bulkhead> TaughtAsync(int permits, int queue, TimeSpan serviceTime)
    {
        var bulkhead = new Bulkhead("test", new BulkheadOptions { PermitLimit = permits, QueueLimit = queue }, _time);
        var unary = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        _time.Advance(serviceTime);
        unary.Dispose();
        return bulkhead;
    }

    [Fact]
    public async Task Dispose_LongLivedLeaseHeldOneMinute_LeavesServiceTimeAlone()
    {
        // Arrange: a 100 ms unary call teaches the service time.
        using var bulkhead = await TaughtAsync(2, 4, TimeSpan.FromMilliseconds(100));
        var learned = bulkhead.EstimateQueueWait();

        // Act: a stream holds its permit for a minute and is disposed as a completed call would be.
        var stream = await bulkhead.AcquireAsync(new BulkheadRequest(LongLived: true));
        _time.Advance(TimeSpan.FromMinutes(1));
        stream.Dispose();

        // Assert
        Assert.True(stream.IsLongLived);
        Assert.Equal(TimeSpan.FromMilliseconds(50), learned);
        Assert.Equal(learned, bulkhead.EstimateQueueWait());
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task Dispose_OrdinaryLeaseHeldOneMinute_InflatesServiceTime()
    {
        // Arrange: the same minute without the flag, to show what the flag prevents.
        using var bulkhead = await TaughtAsync(2, 4, TimeSpan.FromMilliseconds(100));
        var learned = bulkhead.EstimateQueueWait();

        // Act
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        _time.Advance(TimeSpan.FromMinutes(1));
        held.Dispose();

        // Assert
        Assert.False(held.IsLongLived);
        Assert.True(bulkhead.EstimateQueueWait() > learned * 100);
    }

    [Fact]
    public async Task RetryAfter_QueueFullAfterLongStream_IsTheUnaryDrainTime()
    {
        // Arrange: service time 200 ms from unary calls, then a stream that ran for ten minutes.
        using var bulkhead = await TaughtAsync(1, 1, TimeSpan.FromMilliseconds(200));
        var stream = await bulkhead.AcquireAsync(new BulkheadRequest(LongLived: true));
        _time.Advance(TimeSpan.FromMinutes(10));
        stream.Dispose();
        using var busy = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();

        // Act
        var rejected = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Assert: two positions × 200 ms ÷ one permit, not minutes (and not the 30 s cap).
        Assert.Equal(BulkheadRejectionReason.QueueFull, rejected.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(400), rejected.RetryAfter);
        busy.Dispose();
        (await queued.DefaultTimeout()).Dispose();
    }

    [Fact]
    public async Task EstimateQueueWait_WhileStreamsHoldPermits_CountsOnlyThePermitsThatTurnOver()
    {
        // Arrange: 100 ms service time on four permits.
        using var bulkhead = await TaughtAsync(4, 4, TimeSpan.FromMilliseconds(100));
        var idle = bulkhead.EstimateQueueWait();

        // Act: three streams hold three of the four permits.
        var streams = new List<BulkheadLease>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await bulkhead.AcquireAsync(new BulkheadRequest(LongLived: true)));
        }

        var whileStreaming = bulkhead.EstimateQueueWait();
        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        // Assert: one position × 100 ms ÷ 4 permits, then ÷ the one permit left; back once the streams end.
        Assert.Equal(TimeSpan.FromMilliseconds(25), idle);
        Assert.Equal(TimeSpan.FromMilliseconds(100), whileStreaming);
        Assert.Equal(idle, bulkhead.EstimateQueueWait());
    }

    [Fact]
    public async Task AcquireAsync_LongLivedWaiterGranted_LeaseIsLongLivedAndNoSample()
    {
        // Arrange: the only permit is busy, so the stream queues and is granted by a release.
        using var bulkhead = new Bulkhead("test", new BulkheadOptions { PermitLimit = 1, QueueLimit = 2 }, _time);
        var unary = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var waiting = bulkhead.AcquireAsync(new BulkheadRequest(LongLived: true)).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        unary.Dispose();

        // Act
        var stream = await waiting.DefaultTimeout();
        _time.Advance(TimeSpan.FromMinutes(1));
        stream.Dispose();

        // Assert
        Assert.True(stream.IsAcquired);
        Assert.True(stream.IsLongLived);
        Assert.Equal(TimeSpan.FromMilliseconds(100), bulkhead.EstimateQueueWait());
    }
}
