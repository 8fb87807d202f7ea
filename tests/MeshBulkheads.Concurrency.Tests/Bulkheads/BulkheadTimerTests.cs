using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadTimerTests
{
    private static readonly AsyncLocal<string?> s_requestLocal = new();

    [Fact]
    public async Task Timer_CreatedInsideARequestContext_CallbackSeesNeitherItsAsyncLocalNorItsActivity()
    {
        // Arrange: TimeProvider.System and real timer threads (a FakeTimeProvider timer captures no context). The
        // bulkhead is created inside a "first request": an AsyncLocal and an Activity are set around it.
        var time = new CallbackObservingTimeProvider(TimeProvider.System);
        using var source = new ActivitySource("MeshBulkheads.Tests.TimerContext");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        Bulkhead bulkhead;
        BulkheadLease held;
        using (var request = source.StartActivity("first-request"))
        {
            s_requestLocal.Value = "first-request";
            bulkhead = new Bulkhead("render", new BulkheadOptions { PermitLimit = 1, QueueLimit = 1, MaxQueueTime = TimeSpan.FromMilliseconds(5) }, time);
            held = await bulkhead.AcquireAsync(BulkheadRequest.Default);
            s_requestLocal.Value = null;
        }

        // Act: a later waiter (outside that request) is shed by the timer callback on a timer thread.
        var shed = await bulkhead.AcquireAsync(BulkheadRequest.Default).DefaultTimeout();
        var observed = await time.Observed.Task.DefaultTimeout();
        held.Dispose();
        bulkhead.Dispose();

        // Assert
        Assert.Equal(BulkheadRejectionReason.QueueTimeout, shed.Reason);
        Assert.Null(observed.Local);
        Assert.Null(observed.ActivityName);
    }

    [Fact]
    public async Task Timer_SubMillisecondDueTime_RoundedUpToWholeMilliseconds()
    {
        // Arrange: system timers truncate to whole milliseconds, so 0.4 ms would fire at once and re-arm in a loop.
        var fake = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var time = new CallbackObservingTimeProvider(fake);
        using var bulkhead = new Bulkhead("render", new BulkheadOptions { PermitLimit = 1, QueueLimit = 2, MaxQueueTime = TimeSpan.FromSeconds(1) }, time);
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default);

        // Act: a waiter whose deadline is 0.4 ms away, then one 1.6 ms away.
        var first = bulkhead.AcquireAsync(new BulkheadRequest(fake.GetUtcNow() + TimeSpan.FromTicks(4_000), null, BulkheadCriticality.Critical)).AsTask();
        fake.Advance(TimeSpan.FromMilliseconds(1));
        var firstResult = await first.DefaultTimeout();
        var second = bulkhead.AcquireAsync(new BulkheadRequest(fake.GetUtcNow() + TimeSpan.FromTicks(16_000), null, BulkheadCriticality.Critical)).AsTask();

        // Assert: every due time handed to the timer is a whole number of milliseconds, at least 1 ms.
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, firstResult.Reason);
        Assert.NotEmpty(time.DueTimes);
        Assert.All(time.DueTimes, due => Assert.True(
            due == Timeout.InfiniteTimeSpan || (due >= TimeSpan.FromMilliseconds(1) && due.Ticks % TimeSpan.TicksPerMillisecond == 0),
            $"due time {due.TotalMilliseconds} ms"));
        Assert.Contains(TimeSpan.FromMilliseconds(1), time.DueTimes);
        Assert.Contains(TimeSpan.FromMilliseconds(2), time.DueTimes);
        fake.Advance(TimeSpan.FromMilliseconds(2));
        Assert.Equal(BulkheadRejectionReason.DeadlineExceeded, (await second.DefaultTimeout()).Reason);
    }

    [Fact]
    public async Task HostStart_BeforeAnyRequest_EveryBulkheadHasItsGaugesAtZero()
    {
        // Arrange: two named bulkheads; nothing asks for a bulkhead before the measurement.
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBulkheads()
            .AddBulkhead("payments-read")
            .AddBulkhead("payments-charge");
        using var host = builder.Build();
        using var oldestAge = new MetricCollector<double>(host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.queue.oldest_age");

        // Act
        await host.StartAsync(TestContext.Current.CancellationToken);
        oldestAge.RecordObservableInstruments();
        await host.StopAsync(TestContext.Current.CancellationToken);

        // Assert
        var measurements = oldestAge.GetMeasurementSnapshot();
        Assert.Equal(["payments-charge", "payments-read"], measurements.Select(m => (string)m.Tags[BulkheadConstants.BulkheadTag]!).Order());
        Assert.All(measurements, m => Assert.Equal(0, m.Value));
    }

    /// <summary>Wraps a clock: records every timer due time, and what the first callback run sees of the ambient context.</summary>
    private sealed class CallbackObservingTimeProvider(TimeProvider inner) : TimeProvider
    {
        public TaskCompletionSource<(string? Local, string? ActivityName)> Observed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<TimeSpan> DueTimes { get; } = [];

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = inner.CreateTimer(
                s =>
                {
                    Observed.TrySetResult((s_requestLocal.Value, Activity.Current?.OperationName));
                    callback(s);
                },
                state,
                dueTime,
                period);
            return new RecordingTimer(timer, DueTimes);
        }

        private sealed class RecordingTimer(ITimer inner, List<TimeSpan> dueTimes) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (dueTimes)
                {
                    dueTimes.Add(dueTime);
                }

                return inner.Change(dueTime, period);
            }

            public void Dispose() => inner.Dispose();

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
