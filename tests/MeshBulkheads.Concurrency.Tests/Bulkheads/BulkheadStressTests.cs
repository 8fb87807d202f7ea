using System.Collections.Concurrent;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadStressTests
{
    private static readonly TimeSpan s_stormLength = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task AcquireReleaseCancelTimeoutAndResize_ManyThreadsSeeded_InvariantsHoldAndNothingLost()
    {
        // Arrange: real threads, TimeProvider.System; the seed is printed with any failure (MESH_STRESS_SEED replays one).
        var seed = int.TryParse(Environment.GetEnvironmentVariable("MESH_STRESS_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        var storm = new Storm(seed);

        // Act
        await storm.RunAsync();

        // Assert
        Assert.True(storm.Violations.IsEmpty, $"seed {seed}: {string.Join("; ", storm.Violations.Take(5))}");
        Assert.True(storm.Operations > 1000, $"seed {seed}: only {storm.Operations} operations");
        Assert.True(storm.Final.Active == 0 && storm.Final.Queued == 0, $"seed {seed}: after the storm active {storm.Final.Active}, queued {storm.Final.Queued}");
        Assert.True(storm.Final.Successful == storm.Acquired, $"seed {seed}: bulkhead counted {storm.Final.Successful} grants, callers received {storm.Acquired}");
        Assert.True(storm.Final.Failed == storm.Rejected, $"seed {seed}: bulkhead counted {storm.Final.Failed} rejections, callers received {storm.Rejected}");
        Assert.True(storm.Final.ProbeGranted == Storm.ProbeLimit, $"seed {seed}: {storm.Final.ProbeGranted} of {Storm.ProbeLimit} permits grantable after the storm (lost or doubled permits)");
    }

    private sealed class Storm(int seed)
    {
        public const int ProbeLimit = 6;
        private const int Workers = 24;

        private readonly Lock _historyLock = new();
        private readonly List<(int Permits, int Queue)> _history = [];
        private readonly ConcurrentDictionary<long, int> _inFlight = new();
        private long _nextOperation;
        private long _acquired;
        private long _rejected;

        public ConcurrentQueue<string> Violations { get; } = new();

        public long Operations => Interlocked.Read(ref _nextOperation);

        public long Acquired => Interlocked.Read(ref _acquired);

        public long Rejected => Interlocked.Read(ref _rejected);

        public (int Active, int Queued, long Successful, long Failed, int ProbeGranted) Final { get; private set; }

        public async Task RunAsync()
        {
            var initial = new BulkheadOptions { PermitLimit = 8, QueueLimit = 8, MaxQueueTime = TimeSpan.FromMilliseconds(40) };
            _history.Add((initial.PermitLimit, initial.QueueLimit));
            using var bulkhead = new Bulkhead("stress", initial, TimeProvider.System);
            var stopAt = TimeProvider.System.GetTimestamp() + (long)(s_stormLength.TotalSeconds * TimeProvider.System.TimestampFrequency);
            bool Running() => TimeProvider.System.GetTimestamp() < stopAt;

            var workers = Enumerable.Range(0, Workers)
                .Select(i => Task.Run(() => WorkAsync(bulkhead, new Random(seed + i + 1), Running)))
                .ToList();
            var resizer = Task.Run(() => ResizeAsync(bulkhead, new Random(seed), Running));
            var checker = Task.Run(() => CheckAsync(bulkhead, Running));
            await Task.WhenAll([.. workers, resizer, checker]).WaitAsync(TaskTimeoutExtensions.DefaultTimeoutSpan);

            var statistics = bulkhead.GetStatistics()!;
            var active = bulkhead.ActiveCount;
            var queued = bulkhead.QueuedCount;
            bulkhead.UpdateOptions(new BulkheadOptions { PermitLimit = ProbeLimit, QueueLimit = 0 });
            var probes = Enumerable.Range(0, ProbeLimit + 1).Select(_ => bulkhead.AttemptAcquire()).ToList();
            Final = (active, queued, statistics.TotalSuccessfulLeases, statistics.TotalFailedLeases, probes.Count(p => p.IsAcquired));
            probes.ForEach(p => p.Dispose());
        }

        private async Task WorkAsync(Bulkhead bulkhead, Random random, Func<bool> running)
        {
            while (running())
            {
                var id = Interlocked.Increment(ref _nextOperation);
                _inFlight[id] = HistoryIndex();
                try
                {
                    using var cts = new CancellationTokenSource();
                    var action = random.Next(4);
                    if (action == 0)
                    {
                        cts.CancelAfter(random.Next(0, 10));
                    }

                    DateTimeOffset? deadline = action == 1 ? TimeProvider.System.GetUtcNow().AddMilliseconds(random.Next(1, 30)) : null;
                    var criticality = random.Next(2) == 0 ? BulkheadCriticality.Critical : BulkheadCriticality.Sheddable;
                    var lease = await bulkhead.AcquireAsync(new BulkheadRequest(deadline, null, criticality), cts.Token)
                        .AsTask().WaitAsync(TaskTimeoutExtensions.DefaultTimeoutSpan);
                    if (!lease.IsAcquired)
                    {
                        Interlocked.Increment(ref _rejected);
                        continue;
                    }

                    Interlocked.Increment(ref _acquired);
                    if (random.Next(3) == 0)
                    {
                        await Task.Yield();
                    }
                    else
                    {
                        await Task.Delay(random.Next(0, 4));
                    }

                    switch (random.Next(4))
                    {
                        case 0:
                            lease.Abandon();
                            break;
                        case 1:
                            lease.Dispose();
                            lease.Dispose();
                            break;
                        default:
                            lease.Dispose();
                            break;
                    }
                }
                catch (TimeoutException)
                {
                    Violations.Enqueue($"operation {id}: a waiter never completed");
                    return;
                }
                finally
                {
                    _inFlight.TryRemove(id, out _);
                }
            }
        }

        private async Task ResizeAsync(Bulkhead bulkhead, Random random, Func<bool> running)
        {
            while (running())
            {
                var next = (Permits: random.Next(1, 9), Queue: random.Next(0, 17));
                lock (_historyLock)
                {
                    // Announced before it is in force: the bounds below are then conservative.
                    _history.Add(next);
                }

                bulkhead.UpdateOptions(new BulkheadOptions { PermitLimit = next.Permits, QueueLimit = next.Queue, MaxQueueTime = TimeSpan.FromMilliseconds(random.Next(5, 60)) });
                await Task.Delay(random.Next(0, 3));
            }
        }

        private async Task CheckAsync(Bulkhead bulkhead, Func<bool> running)
        {
            while (running())
            {
                // The oldest live operation first, then the counts: every permit or slot counted below belongs to an
                // operation that started at or after that history index.
                var oldest = _inFlight.IsEmpty ? HistoryIndex() : _inFlight.Values.DefaultIfEmpty(HistoryIndex()).Min();
                var active = bulkhead.ActiveCount;
                var queued = bulkhead.QueuedCount;
                // One entry earlier: an entry is announced before it is in force, so an operation registered at
                // index i may still be admitted under entry i - 1 (a missed case showed 'queued 8 > 5' under load).
                var (maxPermits, maxQueue) = MaxSince(Math.Max(0, oldest - 1));
                if (active > maxPermits)
                {
                    Violations.Enqueue($"active {active} > largest permit limit {maxPermits} since the oldest live operation");
                }

                if (queued > maxQueue)
                {
                    Violations.Enqueue($"queued {queued} > largest queue limit {maxQueue} since the oldest live operation");
                }

                if (active < 0 || queued < 0)
                {
                    Violations.Enqueue($"negative count: active {active}, queued {queued}");
                }

                await Task.Yield();
            }
        }

        private int HistoryIndex()
        {
            lock (_historyLock)
            {
                return _history.Count - 1;
            }
        }

        private (int Permits, int Queue) MaxSince(int index)
        {
            lock (_historyLock)
            {
                var permits = 0;
                var queue = 0;
                for (var i = index; i < _history.Count; i++)
                {
                    permits = Math.Max(permits, _history[i].Permits);
                    queue = Math.Max(queue, _history[i].Queue);
                }

                return (permits, queue);
            }
        }
    }
}
