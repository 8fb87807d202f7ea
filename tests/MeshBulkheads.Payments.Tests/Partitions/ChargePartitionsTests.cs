using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MeshBulkheads.Payments.Partitions;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
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

        // Act
        var first = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            started.Enqueue(0);
            firstRunning.TrySetResult();
            await releaseFirst.Task;
            return 0;
        }, CancellationToken.None);
        await firstRunning.Task.DefaultTimeout();
        var rest = Enumerable.Range(1, 5)
            .Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ =>
            {
                started.Enqueue(i);
                return Task.FromResult(i);
            }, CancellationToken.None))
            .ToList();
        var startedWhileFirstRan = started.Count;
        releaseFirst.TrySetResult();
        await Task.WhenAll(rest.Append(first)).DefaultTimeout();

        // Assert
        Assert.Equal(1, startedWhileFirstRan);
        Assert.Equal([0, 1, 2, 3, 4, 5], started);
        Assert.Equal([1, 2, 3, 4, 5], rest.Select(t => t.Result));
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
        var release = NewSignal();
        var running = NewSignal();
        var held = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            running.TrySetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await running.Task.DefaultTimeout();
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
        Assert.Equal("partition_full", full.Tags[PartitionMetrics.ResultTag]);
        release.TrySetResult();
        await Task.WhenAll(queued.Append(held)).DefaultTimeout();
    }

    [Fact]
    public async Task RunAsync_CallerCancelsWhileQueued_WorkNeverStarts()
    {
        // Arrange
        var partitions = Create();
        using var collector = new MetricCollector<long>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.RequestsName);
        var release = NewSignal();
        var running = NewSignal();
        var held = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            running.TrySetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await running.Task.DefaultTimeout();
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
        var results = collector.GetMeasurementSnapshot().Select(m => (string?)m.Tags[PartitionMetrics.ResultTag]).ToList();
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
        using var depth = new MetricCollector<int>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.DepthName);
        using var limit = new MetricCollector<int>(MeterFactory, PaymentsTelemetry.Name, PartitionMetrics.LimitName);
        var partition = ChargePartitions.PartitionOf(Tenant, "acct-1", 4).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var release = NewSignal();
        var running = NewSignal();
        var held = partitions.RunAsync(Tenant, "acct-1", "k0", async _ =>
        {
            running.TrySetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await running.Task.DefaultTimeout();
        var queued = Enumerable.Range(1, 3).Select(i => partitions.RunAsync(Tenant, "acct-1", $"k{i}", _ => Task.FromResult(i), CancellationToken.None)).ToList();

        // Act
        depth.RecordObservableInstruments();
        limit.RecordObservableInstruments();

        // Assert
        var depths = depth.GetMeasurementSnapshot();
        Assert.Equal(4, depths.Count);
        Assert.Equal(3, depths.Single(m => (string?)m.Tags[PartitionMetrics.PartitionTag] == partition).Value);
        Assert.All(depths.Where(m => (string?)m.Tags[PartitionMetrics.PartitionTag] != partition), m => Assert.Equal(0, m.Value));
        Assert.Equal(["0", "1", "2", "3"], limit.GetMeasurementSnapshot().Select(m => (string?)m.Tags[PartitionMetrics.PartitionTag]).Order(StringComparer.Ordinal));
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

    private ChargePartitions Create(int count = 4, int capacity = 8, bool globalQueue = false)
    {
        var options = new PaymentsOptions
        {
            Partitions = new PartitionOptions { Count = count, MailboxCapacity = capacity },
            Pitfalls = new PitfallOptions { GlobalQueue = globalQueue },
        };
        var partitions = new ChargePartitions(Options.Create(options), new PartitionMetrics(MeterFactory), TimeProvider.System);
        _created.Add(partitions);
        return partitions;
    }
}
