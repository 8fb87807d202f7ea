
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

/// <summary>The rules every bulkhead flavour must pass (runtime's BaseRateLimiterTests style).</summary>
public abstract class BulkheadContractTests
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>The options of the flavour under test (FIFO with a fixed limit unless <see cref="ConfigureFlavour"/> says otherwise).</summary>
    protected BulkheadOptions CreateOptions(int permitLimit, int queueLimit)
    {
        var options = new BulkheadOptions { PermitLimit = permitLimit, QueueLimit = queueLimit };
        ConfigureFlavour(options);
        return options;
    }

    /// <summary>Sets what makes the flavour under test on options that already carry the permit and queue limits.</summary>
    protected virtual void ConfigureFlavour(BulkheadOptions options)
    {
    }

    /// <summary>Takes the one permit, then queues an older waiter and, <paramref name="apart"/> later, a newer one.</summary>
    protected async Task<(BulkheadLease Held, Task<BulkheadLease> Older, Task<BulkheadLease> Newer)> HoldOneQueueTwoAsync(Bulkhead bulkhead, TimeSpan apart)
    {
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var older = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();
        Time.Advance(apart);
        var newer = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();
        return (held, older, newer);
    }

    /// <summary>
    /// With the one permit held and two waiters queued <paramref name="apart"/>, freeing the permit serves the older
    /// waiter; the newer one still waits.
    /// </summary>
    protected async Task AssertServesOldestFirstAsync(TimeSpan apart)
    {
        // Arrange
        using var bulkhead = Create(queueLimit: 2);
        var (held, older, newer) = await HoldOneQueueTwoAsync(bulkhead, apart);

        // Act
        held.Dispose();
        using var lease = await older.DefaultTimeout();

        // Assert
        Assert.True(lease.IsAcquired);
        Assert.False(newer.IsCompleted);
    }

    protected Bulkhead Create(int permitLimit = 1, int queueLimit = 2, Action<BulkheadOptions>? configure = null)
    {
        var options = CreateOptions(permitLimit, queueLimit);
        options.MaxQueueTime = TimeSpan.FromMilliseconds(500);
        configure?.Invoke(options);
        return new Bulkhead("test", options, Time);
    }

    [Fact]
    public async Task AcquireAsync_PermitFree_CompletesSynchronouslyAndReleasesOnDispose()
    {
        // Arrange
        using var bulkhead = Create();

        // Act
        var pending = bulkhead.AcquireAsync(BulkheadRequest.Default);
        var lease = await pending;
        var activeWhileHeld = bulkhead.ActiveCount;
        lease.Dispose();

        // Assert
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.True(lease.IsAcquired);
        Assert.Equal(BulkheadRejectionReason.None, lease.Reason);
        Assert.Equal(1, activeWhileHeld);
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task AcquireAsync_QueueFull_ReturnsRejectedLeaseWithRetryAfter()
    {
        // Arrange
        using var bulkhead = Create(permitLimit: 1, queueLimit: 1);
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Act
        var rejected = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Assert
        Assert.False(queued.IsCompleted);
        Assert.False(rejected.IsAcquired);
        Assert.Equal(BulkheadRejectionReason.QueueFull, rejected.Reason);
        Assert.NotNull(rejected.RetryAfter);
        Assert.InRange(rejected.RetryAfter!.Value, BulkheadConstants.MinRetryAfter, BulkheadConstants.MaxRetryAfter);
    }

    [Fact]
    public async Task AcquireAsync_Released_GrantsWaiterWithQueueTime()
    {
        // Arrange
        using var bulkhead = Create();
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();
        Time.Advance(TimeSpan.FromMilliseconds(100));

        // Act
        held.Dispose();
        using var lease = await queued.DefaultTimeout();

        // Assert
        Assert.True(lease.IsAcquired);
        Assert.Equal(TimeSpan.FromMilliseconds(100), lease.QueueTime);
    }

    [Fact]
    public async Task AcquireAsync_WaitedExactlyMaxQueueTime_IsShedWithQueueTimeout()
    {
        // Arrange
        using var bulkhead = Create();
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();

        // Act
        Time.Advance(TimeSpan.FromMilliseconds(500) - TimeSpan.FromTicks(1));
        var completedEarly = queued.IsCompleted;
        Time.Advance(TimeSpan.FromTicks(1));
        var lease = await queued.DefaultTimeout();

        // Assert
        Assert.False(completedEarly);
        Assert.Equal(BulkheadRejectionReason.QueueTimeout, lease.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(500), lease.QueueTime);
        Assert.Equal(0, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_DeadlineShorterThanExpectedWait_RejectedAtOnce()
    {
        // Arrange: one 100 ms request teaches the bulkhead its service time.
        using var bulkhead = Create();
        var first = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        Time.Advance(TimeSpan.FromMilliseconds(100));
        first.Dispose();
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Act
        var pending = bulkhead.AcquireAsync(BulkheadRequest.WithTimeout(TimeSpan.FromMilliseconds(50), Time));
        var lease = await pending;

        // Assert
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(BulkheadRejectionReason.DeadlineUnmeetable, lease.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(100), bulkhead.EstimateQueueWait());
        Assert.Equal(0, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_DeadlinePassesWhileQueued_WaiterRemovedAndNeverGranted()
    {
        // Arrange
        using var bulkhead = Create();
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.WithTimeout(TimeSpan.FromMilliseconds(200), Time)).AsTask();

        // Act
        Time.Advance(TimeSpan.FromMilliseconds(200));
        var lease = await queued.DefaultTimeout();
        held.Dispose();

        // Assert
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, lease.Reason);
        Assert.Equal(0, bulkhead.QueuedCount);
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task AcquireAsync_DeadlinePassedAtGrant_RejectedAndPermitPassedOn()
    {
        // Arrange: timers never fire, so only the re-check at grant can catch the passed deadline.
        using var bulkhead = new Bulkhead("test", CreateOptions(1, 2), new NoTimerTimeProvider(Time));
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var expiring = bulkhead.AcquireAsync(BulkheadRequest.WithTimeout(TimeSpan.FromMilliseconds(100), Time)).AsTask();
        Time.Advance(TimeSpan.FromMilliseconds(100));
        var expiredBeforeGrant = expiring.IsCompleted;

        // Act
        held.Dispose();
        var expired = await expiring.DefaultTimeout();
        using var granted = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Assert
        Assert.False(expiredBeforeGrant);
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, expired.Reason);
        Assert.True(granted.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_DeadlineAlreadyPassed_RejectedWithoutQueueing()
    {
        // Arrange
        using var bulkhead = Create();

        // Act
        var lease = await bulkhead.AcquireAsync(new BulkheadRequest(Time.GetUtcNow()));

        // Assert
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, lease.Reason);
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task AcquireAsync_CanceledWhileQueued_RemovesWaiter()
    {
        // Arrange
        using var bulkhead = Create();
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        using var cts = new CancellationTokenSource();
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default, cts.Token).AsTask();

        // Act
        await cts.CancelAsync();
        var lease = await queued.DefaultTimeout();

        // Assert
        Assert.Equal(BulkheadRejectionReason.Canceled, lease.Reason);
        Assert.Equal(0, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_RateLimiterPathCanceled_Throws()
    {
        // Arrange
        using var bulkhead = Create();
        using var held = bulkhead.AttemptAcquire();
        using var cts = new CancellationTokenSource();
        var queued = bulkhead.AcquireAsync(1, cts.Token).AsTask();

        // Act
        await cts.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.DefaultTimeout());
        Assert.True(held.IsAcquired);
        Assert.False(bulkhead.AttemptAcquire().IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_CriticalOnFullQueue_DisplacesNewestSheddable()
    {
        // Arrange
        using var bulkhead = Create(queueLimit: 1);
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var sheddable = bulkhead.AcquireAsync(new BulkheadRequest(Criticality: BulkheadCriticality.Sheddable)).AsTask();

        // Act
        var critical = bulkhead.AcquireAsync(new BulkheadRequest(Criticality: BulkheadCriticality.Critical)).AsTask();
        var displaced = await sheddable.DefaultTimeout();

        // Assert
        Assert.Equal(BulkheadRejectionReason.QueueFull, displaced.Reason);
        Assert.False(critical.IsCompleted);
    }

    [Fact]
    public async Task AcquireAsync_TenantOverShare_RejectedWithTenantShare()
    {
        // Arrange: share 0.5 of (2 permits + 2 queue) = 2 slots per tenant.
        using var bulkhead = Create(permitLimit: 2, queueLimit: 2, o => o.TenantMaxShare = 0.5);
        using var a1 = await bulkhead.AcquireAsync(new BulkheadRequest(Tenant: "a"));
        using var a2 = await bulkhead.AcquireAsync(new BulkheadRequest(Tenant: "a"));

        // Act
        var a3 = await bulkhead.AcquireAsync(new BulkheadRequest(Tenant: "a"));
        var b1 = bulkhead.AcquireAsync(new BulkheadRequest(Tenant: "b"));

        // Assert
        Assert.Equal(BulkheadRejectionReason.TenantShare, a3.Reason);
        Assert.False(b1.IsCompleted);
        Assert.Equal(1, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AttemptAcquire_RateLimiterContract_StatisticsCount()
    {
        // Arrange
        using var bulkhead = Create(permitLimit: 1, queueLimit: 0);

        // Act
        using var first = bulkhead.AttemptAcquire();
        using var second = bulkhead.AttemptAcquire();
        var stats = bulkhead.GetStatistics()!;

        // Assert
        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.Equal(1, stats.TotalSuccessfulLeases);
        Assert.Equal(1, stats.TotalFailedLeases);
        Assert.Equal(0, stats.CurrentAvailablePermits);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task UpdateOptions_LargerPermitLimit_GrantsWaitersLive()
    {
        // Arrange
        using var bulkhead = Create();
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var queued = bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask();
        var options = bulkhead.Options;
        options.PermitLimit = 2;
        options.AdaptiveLimit.MaxLimit = Math.Max(options.AdaptiveLimit.MaxLimit, 2);

        // Act
        bulkhead.UpdateOptions(options);
        using var lease = await queued.DefaultTimeout();

        // Assert
        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_UnboundedQueuePitfall_QueuesBeyondQueueLimitAndShedsNothing()
    {
        // Arrange: one permit, QueueLimit 2, the pitfall on; a completed lease first so the wait estimate is non-zero.
        using var bulkhead = Create(permitLimit: 1, queueLimit: 2, o => o.Pitfalls.UnboundedQueue = true);
        var warm = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        Time.Advance(TimeSpan.FromMilliseconds(100));
        warm.Dispose();
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var shortDeadline = new BulkheadRequest(Time.GetUtcNow() + TimeSpan.FromMilliseconds(150), null, BulkheadCriticality.Sheddable);

        // Act: six more arrivals (one whose deadline is shorter than the expected wait), then far past MaxQueueTime.
        var waiting = Enumerable.Range(0, 5).Select(_ => bulkhead.AcquireAsync(BulkheadRequest.Default).AsTask()).ToList();
        var unmeetable = bulkhead.AcquireAsync(shortDeadline).AsTask();
        var queuedAfterArrivals = bulkhead.QueuedCount;
        Time.Advance(TimeSpan.FromSeconds(10));
        var queuedAfterWait = bulkhead.QueuedCount;

        // Assert: the symptom — the queue grows past QueueLimit and nobody is shed for length or for waiting;
        // only the waiter whose own deadline passed left (removal, not shedding).
        Assert.Equal(6, queuedAfterArrivals);
        Assert.Equal(5, queuedAfterWait);
        Assert.All(waiting, w => Assert.False(w.IsCompleted));
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, (await unmeetable.DefaultTimeout()).Reason);
        held.Dispose();
        while (waiting.Count > 0)
        {
            // Whichever the flavour serves next (FIFO or newest-first), every waiter is granted in turn.
            var next = await Task.WhenAny(waiting).DefaultTimeout();
            waiting.Remove(next);
            using var lease = await next;
            Assert.True(lease.IsAcquired);
        }
    }
}

public sealed class FifoBulkheadTests : BulkheadContractTests
{
    [Fact]
    public Task AcquireAsync_Fifo_ServesOldestFirst() => AssertServesOldestFirstAsync(TimeSpan.FromMilliseconds(300));
}

public sealed class AdaptiveLifoBulkheadTests : BulkheadContractTests
{
    protected override void ConfigureFlavour(BulkheadOptions options)
    {
        options.QueueProcessingOrder = BulkheadQueueOrder.AdaptiveLifo;
        options.CongestionThreshold = TimeSpan.FromMilliseconds(100);
    }

    [Fact]
    public async Task AcquireAsync_Congested_ServesNewestFirstAndShedsOldestAtMaxQueueTime()
    {
        // Arrange
        using var bulkhead = Create(queueLimit: 2);
        var (held, older, newer) = await HoldOneQueueTwoAsync(bulkhead, TimeSpan.FromMilliseconds(300));

        // Act: oldest is 300 ms old > 100 ms threshold → congested → LIFO.
        held.Dispose();
        using var newest = await newer.DefaultTimeout();
        Time.Advance(TimeSpan.FromMilliseconds(200));
        var shed = await older.DefaultTimeout();

        // Assert: the old waiter did not starve forever; it was shed at MaxQueueTime.
        Assert.True(newest.IsAcquired);
        Assert.Equal(BulkheadRejectionReason.QueueTimeout, shed.Reason);
        Assert.Equal(TimeSpan.FromMilliseconds(500), shed.QueueTime);
    }

    /// <summary>The oldest waiter is 50 ms old, under the 100 ms congestion threshold: still FIFO.</summary>
    [Fact]
    public Task AcquireAsync_NotCongested_ServesOldestFirst() => AssertServesOldestFirstAsync(TimeSpan.FromMilliseconds(50));
}

public sealed class AdaptiveLimitBulkheadTests : BulkheadContractTests
{
    protected override void ConfigureFlavour(BulkheadOptions options)
    {
        options.AdaptiveLimit.Enabled = true;
        options.AdaptiveLimit.MinLimit = 1;
        options.AdaptiveLimit.MaxLimit = 100;
    }
}
