using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Payments.Partitions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments.Tests.Partitions;

/// <summary>
/// The partition scheduler on its own: ordering, isolation, bounds, skipping and metrics. Work items are
/// gated with <see cref="TaskCompletionSource"/>s, so every interleaving is forced, not hoped for.
/// </summary>
public sealed class ChargePartitionsTests : IAsyncDisposable
{
    private const string Tenant = "acme";
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<ChargePartitions> _created = [];

    private IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    [Fact]
    public async Task RunAsync_OneAccountWhileFirstIsRunning_RunsOneAtATimeInSubmissionOrder()
    {
        // Arrange
        var partitions = Create();
        var started = new ConcurrentQueue<int>();
        var firstRunning = NewSignal();
        var releaseFirst = NewSignal();
        var firstFinished = false;
        var running = 0;
        var maxRunning = 0;
        var sawFirstFinished = new ConcurrentQueue<bool>();
        var first = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            started.Enqueue(0);
            Enter(ref running, ref maxRunning);
            firstRunning.TrySetResult();
            await releaseFirst.Task;
            Volatile.Write(ref firstFinished, true);
            Interlocked.Decrement(ref running);
            return 0;
        }, CancellationToken.None);
        await firstRunning.Task.DefaultTimeout();

        // Act
        var rest = Enumerable.Range(1, 5)
            .Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ =>
            {
                started.Enqueue(i);
                Enter(ref running, ref maxRunning);
                sawFirstFinished.Enqueue(Volatile.Read(ref firstFinished));
                Interlocked.Decrement(ref running);
                return Task.FromResult(i);
            }, CancellationToken.None))
            .ToList();
        // A deterministic point: every other consumer has been through a charge queued after the five, so a
        // scheduler that let any idle consumer take this account's charges (the global-queue pitfall) has
        // started them by now.
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => $"probe-{i}")
            .Where(a => ChargePartitions.PartitionOf(Tenant, a, 4) != ChargePartitions.PartitionOf(Tenant, "acct-1", 4))
            .DistinctBy(a => ChargePartitions.PartitionOf(Tenant, a, 4))
            .Select(a => partitions.RunAsync(Tenant, a, a, _ => Task.FromResult(0), CancellationToken.None))).DefaultTimeout();
        var startedWhileFirstRan = started.ToArray();
        releaseFirst.TrySetResult();
        await Task.WhenAll(rest.Append(first)).DefaultTimeout();

        // Assert
        Assert.Equal([0], startedWhileFirstRan);
        Assert.Equal([0, 1, 2, 3, 4, 5], started);
        Assert.All(sawFirstFinished, Assert.True);
        Assert.Equal(1, maxRunning);
        Assert.Equal([1, 2, 3, 4, 5], rest.Select(t => t.Result));
    }

    [Fact]
    public async Task RunAsync_CreatedInsideFirstCallersActivity_RunsEachWorkUnderItsOwnCaller()
    {
        // Arrange: the partitions are created lazily while the first caller's Activity is current.
        using var firstCaller = new Activity("first-caller").Start();
        var partitions = Create();
        var firstTrace = await partitions.RunAsync(Tenant, "acct-1", "k1", _ => Task.FromResult(Activity.Current?.TraceId), CancellationToken.None).DefaultTimeout();
        firstCaller.Stop();
        Activity.Current = null;

        // Act
        using var secondCaller = new Activity("second-caller").Start();
        var secondTrace = await partitions.RunAsync(Tenant, "acct-1", "k2", _ => Task.FromResult(Activity.Current?.TraceId), CancellationToken.None).DefaultTimeout();
        secondCaller.Stop();
        Activity.Current = null;
        var noCallerTrace = await partitions.RunAsync(Tenant, "acct-1", "k3", _ => Task.FromResult(Activity.Current?.TraceId), CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.Equal(firstCaller.TraceId, firstTrace);
        Assert.Equal(secondCaller.TraceId, secondTrace);
        Assert.Null(noCallerTrace);
    }

    [Fact]
    public async Task DisposeAsync_ChargesQueuedBehindARunningOne_FailsThemShuttingDownWithoutStartingThem()
    {
        // Arrange
        var partitions = Create();
        var (held, release) = await HoldAsync(partitions, "acct-1");
        var startedQueued = 0;
        var queued = Enumerable.Range(1, 3).Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ =>
        {
            Interlocked.Increment(ref startedQueued);
            return Task.FromResult(i);
        }, CancellationToken.None)).ToList();

        // Act
        var stopping = partitions.DisposeAsync().AsTask();
        release.TrySetResult();
        await stopping.DefaultTimeout();
        var errors = new List<PartitionRejectedException>();
        foreach (var call in queued)
        {
            errors.Add(await Assert.ThrowsAsync<PartitionRejectedException>(() => call).DefaultTimeout());
        }

        // Assert
        Assert.Equal(0, await held.DefaultTimeout()); // the running charge finishes
        Assert.Equal(0, startedQueued);
        Assert.All(errors, e => Assert.Equal(PartitionRejectionReason.ShuttingDown, e.Reason));
    }

    [Fact]
    public async Task RunAsync_WhileStopping_ReportsShuttingDownNeverPartitionFull()
    {
        // Arrange: many mailboxes, so stopping takes a while; the hammered account's mailbox is among the first
        // to close and has room for everything sent (a full mailbox would be a true partition-full).
        var reasons = new ConcurrentBag<PartitionRejectionReason>();
        var account = Enumerable.Range(0, 10_000).Select(i => $"acct-{i}").First(a => ChargePartitions.PartitionOf(Tenant, a, 1024) == 0);

        // Act
        for (var round = 0; round < 20; round++)
        {
            var partitions = Create(count: 1024, capacity: 1_000_000);
            var hammering = Task.Run(() =>
            {
                for (var i = 0; ; i++)
                {
                    try
                    {
                        _ = partitions.RunAsync(Tenant, account, $"k{i}", _ => Task.FromResult(0), CancellationToken.None);
                    }
                    catch (PartitionRejectedException ex)
                    {
                        reasons.Add(ex.Reason);
                        return;
                    }
                }
            }, TestContext.Current.CancellationToken);
            await partitions.DisposeAsync().DefaultTimeout();
            await hammering.DefaultTimeout();
        }

        // Assert
        Assert.Equal(20, reasons.Count);
        Assert.All(reasons, r => Assert.Equal(PartitionRejectionReason.ShuttingDown, r));
    }

    [Fact]
    public async Task RunAsync_ConsumerFailsOnOneCharge_FailsThatChargeAndKeepsDrainingTheMailbox()
    {
        // Arrange: a hook that throws stands for any unexpected failure inside the consumer loop.
        var hooks = new ChargePartitionHooks
        {
            BeforeExecuteAsync = info => info.IdempotencyKey == "boom" ? throw new InvalidOperationException("hook failed") : Task.CompletedTask,
        };
        var partitions = Create(hooks: hooks);

        // Act
        var failed = partitions.RunAsync(Tenant, "acct-1", "boom", _ => Task.FromResult(1), CancellationToken.None);
        var next = partitions.RunAsync(Tenant, "acct-1", "after", _ => Task.FromResult(2), CancellationToken.None);

        // Assert
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failed).DefaultTimeout();
        Assert.Equal("hook failed", error.Message);
        Assert.Equal(2, await next.DefaultTimeout());
    }

    [Fact]
    public async Task RunAsync_HotAccountStalled_OtherPartitionCompletes()
    {
        // Arrange
        var partitions = Create(count: 4);
        var (hot, cold) = AccountsInDifferentPartitions(4);
        var hotRunning = NewSignal();
        var releaseHot = NewSignal();
        var hotCall = partitions.RunAsync(Tenant, hot, "h", async _ =>
        {
            hotRunning.TrySetResult();
            await releaseHot.Task;
            return "hot";
        }, CancellationToken.None);
        await hotRunning.Task.DefaultTimeout();

        // Act
        var coldResult = await partitions.RunAsync(Tenant, cold, "c", _ => Task.FromResult("cold"), CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.Equal("cold", coldResult);
        Assert.False(hotCall.IsCompleted);
        releaseHot.TrySetResult();
        Assert.Equal("hot", await hotCall.DefaultTimeout());
    }

    [Fact]
    public async Task RunAsync_MailboxFull_ThrowsPartitionFullWithPushback()
    {
        // Arrange
        var partitions = Create(count: 2, capacity: 2);
        using var collector = new MetricCollector<long>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.RequestsName);
        var (held, release) = await HoldAsync(partitions, "acct-1");
        var queued = Enumerable.Range(1, 2).Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ => Task.FromResult(i), CancellationToken.None)).ToList();

        // Act
        var error = Assert.Throws<PartitionRejectedException>(
            () => { _ = partitions.RunAsync(Tenant, "acct-1", "k3", _ => Task.FromResult(3), CancellationToken.None); });

        // Assert
        Assert.Equal(PartitionRejectionReason.PartitionFull, error.Reason);
        Assert.Equal(ChargePartitions.PartitionOf(Tenant, "acct-1", 2), error.Partition);
        Assert.InRange(error.RetryAfter, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30));
        Assert.Contains("is full", error.Message, StringComparison.Ordinal);
        var full = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal("partition_full", full.Tags[MeshTelemetryTags.Result]);
        release.TrySetResult();
        await Task.WhenAll(queued.Append(held)).DefaultTimeout();
    }

    [Fact]
    public async Task RunAsync_CallerCancelsWhileQueued_WorkNeverStarts()
    {
        // Arrange
        var partitions = Create();
        using var collector = new MetricCollector<long>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.RequestsName);
        var (held, release) = await HoldAsync(partitions, "acct-1");
        using var caller = new CancellationTokenSource();
        var cancelledStarted = false;
        var cancelled = partitions.RunAsync(Tenant, "acct-1", "k1", _ =>
        {
            cancelledStarted = true;
            return Task.FromResult(1);
        }, caller.Token);

        // Act
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled).DefaultTimeout();
        release.TrySetResult();
        var after = await partitions.RunAsync(Tenant, "acct-1", "k2", _ => Task.FromResult(2), CancellationToken.None).DefaultTimeout();

        // Assert
        Assert.False(cancelledStarted);
        Assert.Equal(2, after);
        await held.DefaultTimeout();
        var results = collector.GetMeasurementSnapshot().Select(m => (string?)m.Tags[MeshTelemetryTags.Result]).ToList();
        Assert.Equal(1, results.Count(r => r == "skipped"));
        Assert.Equal(2, results.Count(r => r == "executed"));
    }

    [Fact]
    public async Task RunAsync_GlobalQueuePitfallFirstChargeSlow_LaterChargesOfSameAccountFinishFirst()
    {
        // Arrange
        var partitions = Create(count: 4, globalQueue: true);
        var finished = new ConcurrentQueue<int>();
        var release = NewSignal();
        var running = NewSignal();
        var first = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            running.TrySetResult();
            await release.Task;
            finished.Enqueue(0);
            return 0;
        }, CancellationToken.None);
        await running.Task.DefaultTimeout();

        // Act: the other consumers take the same account's next charges while the first still runs.
        await Task.WhenAll(Enumerable.Range(1, 2).Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ =>
        {
            finished.Enqueue(i);
            return Task.FromResult(i);
        }, CancellationToken.None))).DefaultTimeout();
        release.TrySetResult();
        await first.DefaultTimeout();

        // Assert
        Assert.Equal(0, finished.Last());
        Assert.NotEqual([0, 1, 2], finished);
    }

    [Fact]
    public async Task Metrics_ChargesWaiting_ReportDepthAndLimitPerPartition()
    {
        // Arrange
        var partitions = Create(count: 4, capacity: 8);
        using var depth = new MetricCollector<int>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.QueuedRequestsName);
        using var limit = new MetricCollector<int>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.QueueLimitName);
        var partition = ChargePartitions.PartitionOf(Tenant, "acct-1", 4).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (held, release) = await HoldAsync(partitions, "acct-1");
        var queued = Enumerable.Range(1, 3).Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ => Task.FromResult(i), CancellationToken.None)).ToList();

        // Act
        depth.RecordObservableInstruments();
        limit.RecordObservableInstruments();

        // Assert
        var depths = depth.GetMeasurementSnapshot();
        Assert.Equal(4, depths.Count);
        Assert.Equal(3, depths.Single(m => (string?)m.Tags[MeshTelemetryTags.Partition] == partition).Value);
        Assert.All(depths.Where(m => (string?)m.Tags[MeshTelemetryTags.Partition] != partition), m => Assert.Equal(0, m.Value));
        Assert.Equal(["0", "1", "2", "3"], limit.GetMeasurementSnapshot().Select(m => (string?)m.Tags[MeshTelemetryTags.Partition]).Order(StringComparer.Ordinal));
        Assert.All(limit.GetMeasurementSnapshot(), m => Assert.Equal(8, m.Value));
        release.TrySetResult();
        await Task.WhenAll(queued.Append(held)).DefaultTimeout();
    }

    [Fact]
    public void PartitionOf_SameKey_IsStableAndInRange()
    {
        // Arrange
        var accounts = Enumerable.Range(0, 200).Select(i => $"acct-{i:0000}").ToList();

        // Act
        var first = accounts.Select(a => ChargePartitions.PartitionOf(Tenant, a, 16)).ToList();
        var second = accounts.Select(a => ChargePartitions.PartitionOf(Tenant, a, 16)).ToList();

        // Assert
        Assert.Equal(first, second);
        Assert.All(first, p => Assert.InRange(p, 0, 15));
        Assert.Equal(16, first.Distinct().Count()); // 200 accounts spread over every mailbox
        Assert.NotEqual(ChargePartitions.PartitionOf("ab", "c", 1 << 20), ChargePartitions.PartitionOf("a", "bc", 1 << 20));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var partitions in _created)
        {
            await partitions.DisposeAsync();
        }

        await _services.DisposeAsync();
    }

    internal static (string Hot, string Cold) AccountsInDifferentPartitions(int count)
    {
        var hot = "acct-hot";
        var cold = Enumerable.Range(0, 100).Select(i => $"acct-{i}")
            .First(a => ChargePartitions.PartitionOf(Tenant, a, count) != ChargePartitions.PartitionOf(Tenant, hot, count));
        return (hot, cold);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs a charge (key <c>k0</c>) on <paramref name="account"/> that holds its partition until <c>Release</c> is set.</summary>
    private static async Task<(Task<int> Held, TaskCompletionSource Release)> HoldAsync(ChargePartitions partitions, string account)
    {
        var release = NewSignal();
        var running = NewSignal();
        var held = partitions.RunAsync(Tenant, account, "k0", async _ =>
        {
            running.TrySetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await running.Task.DefaultTimeout();
        return (held, release);
    }

    private static void Enter(ref int running, ref int maxRunning)
    {
        var now = Interlocked.Increment(ref running);
        int seen;
        while ((seen = Volatile.Read(ref maxRunning)) < now && Interlocked.CompareExchange(ref maxRunning, now, seen) != seen)
        {
        }
    }

    private ChargePartitions Create(int count = 4, int capacity = 8, bool globalQueue = false, ChargePartitionHooks? hooks = null)
    {
        var options = new PaymentsOptions
        {
            Partitions = new PartitionOptions { Count = count, MailboxCapacity = capacity },
            Pitfalls = new PitfallOptions { GlobalQueue = globalQueue },
        };
        var partitions = new ChargePartitions(Options.Create(options), new PartitionMetrics(MeterFactory), TimeProvider.System, hooks);
        _created.Add(partitions);
        return partitions;
    }
}
