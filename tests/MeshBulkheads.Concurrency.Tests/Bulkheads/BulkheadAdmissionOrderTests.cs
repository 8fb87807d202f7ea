using System.Diagnostics.Metrics;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadAdmissionOrderTests
{
    [Fact]
    public async Task AcquireAsync_CriticalWithUnmeetableDeadlineAtFullQueue_RejectedWithoutEvictingSheddable()
    {
        // Arrange: one permit, one queue slot; a 100 ms lease teaches the service time; a sheddable waiter fills the queue.
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var bulkhead = new Bulkhead("test", new BulkheadOptions { PermitLimit = 1, QueueLimit = 1, MaxQueueTime = TimeSpan.FromSeconds(5) }, time);
        var warm = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        time.Advance(TimeSpan.FromMilliseconds(100));
        warm.Dispose();
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var sheddable = bulkhead.AcquireAsync(new BulkheadRequest(null, null, BulkheadCriticality.Sheddable)).AsTask();

        // Act: a critical request whose 50 ms deadline is below the expected 100 ms wait.
        var critical = await bulkhead.AcquireAsync(new BulkheadRequest(time.GetUtcNow() + TimeSpan.FromMilliseconds(50), null, BulkheadCriticality.Critical));

        // Assert: the critical request is refused for its deadline, and the sheddable waiter was not sacrificed for it.
        Assert.Equal(BulkheadRejectionReason.DeadlineUnmeetable, critical.Reason);
        Assert.False(sheddable.IsCompleted);
        Assert.Equal(1, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_CriticalAdmissibleAtFullQueue_EvictsNewestSheddable()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var bulkhead = new Bulkhead("test", new BulkheadOptions { PermitLimit = 1, QueueLimit = 1, MaxQueueTime = TimeSpan.FromSeconds(5) }, time);
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var sheddable = bulkhead.AcquireAsync(new BulkheadRequest(null, null, BulkheadCriticality.Sheddable)).AsTask();

        // Act
        var critical = bulkhead.AcquireAsync(new BulkheadRequest(time.GetUtcNow() + TimeSpan.FromSeconds(1), null, BulkheadCriticality.Critical)).AsTask();

        // Assert
        Assert.Equal(BulkheadRejectionReason.QueueFull, (await sheddable.DefaultTimeout()).Reason);
        Assert.False(critical.IsCompleted);
        Assert.Equal(1, bulkhead.QueuedCount);
    }

    [Fact]
    public async Task AcquireAsync_DeadlinePassesBetweenGrantAndResume_DeadlineExceededCountedAsDeadline()
    {
        // Arrange: the waiter is granted before its deadline, but its continuation (a thread-pool thread) only reads
        // the clock after the deadline has passed: the gate holds that thread until the test has moved the clock.
        var fake = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var time = new GatedTimeProvider(fake);
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddBulkheads()
            .AddBulkhead("render", o => { o.PermitLimit = 1; o.QueueLimit = 1; o.MaxQueueTime = TimeSpan.FromSeconds(5); })
            .Services.BuildServiceProvider();
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("render");
        using var requests = new MetricCollector<long>(services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
        var waiting = bulkhead.AcquireAsync(new BulkheadRequest(fake.GetUtcNow() + TimeSpan.FromMilliseconds(100), null, BulkheadCriticality.Critical)).AsTask();

        // Act
        time.HoldOtherThreads();
        fake.Advance(TimeSpan.FromMilliseconds(50));
        held.Dispose();
        fake.Advance(TimeSpan.FromMilliseconds(100));
        time.Release();
        var lease = await waiting.DefaultTimeout();

        // Assert: no work starts, the permit is back, and the outcome is counted once, as `deadline`.
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, lease.Reason);
        Assert.Equal(0, bulkhead.ActiveCount);
        Assert.Equal(
            ["acquired", "deadline"],
            requests.GetMeasurementSnapshot().Select(m => (string)m.Tags[BulkheadConstants.ResultTag]!).Order());
    }

    /// <summary>A fake clock that, once armed, blocks every thread but the arming one on its first clock read until released.</summary>
    private sealed class GatedTimeProvider(FakeTimeProvider inner) : TimeProvider
    {
        private readonly ManualResetEventSlim _gate = new(initialState: true);
        private int _owner;

        public override long TimestampFrequency => inner.TimestampFrequency;

        public void HoldOtherThreads()
        {
            _owner = Environment.CurrentManagedThreadId;
            _gate.Reset();
        }

        public void Release() => _gate.Set();

        public override DateTimeOffset GetUtcNow()
        {
            Wait();
            return inner.GetUtcNow();
        }

        public override long GetTimestamp()
        {
            Wait();
            return inner.GetTimestamp();
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);

        private void Wait()
        {
            if (Environment.CurrentManagedThreadId != Volatile.Read(ref _owner))
            {
                _gate.Wait(TaskTimeoutExtensions.DefaultTimeoutSpan);
            }
        }
    }
}
