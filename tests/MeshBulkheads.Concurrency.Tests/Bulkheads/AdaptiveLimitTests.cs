
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class AdaptiveLimitTests
{
    [Fact]
    public void PermitLimit_SimulatedServerWithCapacity20_ConvergesNearCapacity()
    {
        // Arrange: a server that serves up to C requests in 10 ms each; above C latency grows with in-flight/C
        // (a processor-sharing queue). Demand always exceeds the limit (closed loop, deterministic). The default
        // baseline interval (30 s) never comes in the ≈ 2.5 simulated seconds.
        const int capacity = 20;
        var options = new AdaptiveLimitOptions();

        // Act
        var limits = Simulate(outlierAt: null, completions: 5000, baselineInterval: options.BaselineInterval);

        // Assert: the last stretch stays near the true capacity (Vegas keeps a small queue: alpha..beta ≈ 4..8).
        var settled = limits.TakeLast(500).ToList();
        Assert.InRange(settled.Min(), capacity - 2, (int)(capacity * 1.6));
        Assert.InRange(settled.Max(), capacity - 2, (int)(capacity * 1.6));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1500)]
    public void PermitLimit_OneFastOutlierThenSteadyLoad_WithinTenPercentOfNoOutlierWithin1000Samples(int outlierAt)
    {
        // Arrange: the same simulated server (capacity 20, 10 ms service time), once clean and once with a single
        // 0.1 ms sample (a fast failure disposed like a success) at completion `outlierAt`.
        var clean = Simulate(outlierAt: null, completions: outlierAt + 1500);

        // Act
        var poisoned = Simulate(outlierAt, completions: outlierAt + 1500);

        // Assert: from 1000 samples after the outlier on, the limit is where the clean run's is (window means).
        var expected = clean.Skip(outlierAt + 1000).Average();
        var actual = poisoned.Skip(outlierAt + 1000).Average();
        Assert.InRange(actual, expected * 0.9, expected * 1.1);
    }

    /// <summary>
    /// Closed-loop simulation against a server of capacity 20 (10 ms service time unless <paramref name="baseLatencyAt"/>
    /// says otherwise): demand always exceeds the limit; returns the limit after each completion. The baseline probe
    /// runs every <paramref name="baselineInterval"/> (1 s when null).
    /// </summary>
    internal static List<int> Simulate(
        int? outlierAt, int completions, Func<int, TimeSpan>? baseLatencyAt = null, Action<Bulkhead>? inspect = null, TimeSpan? baselineInterval = null)
    {
        const int capacity = 20;
        var time = new FakeTimeProvider();
        using var bulkhead = new Bulkhead("sim", new BulkheadOptions
        {
            PermitLimit = 5,
            QueueLimit = 0,
            AdaptiveLimit = { Enabled = true, MinLimit = 1, MaxLimit = 200, BaselineInterval = baselineInterval ?? TimeSpan.FromSeconds(1) },
        }, time);
        var inFlight = new List<(DateTimeOffset Done, IDisposable Lease)>();
        var limits = new List<int>(completions);
        var outlierPending = false;
        for (var completed = 0; completed < completions;)
        {
            var baseLatency = baseLatencyAt?.Invoke(completed) ?? TimeSpan.FromMilliseconds(10);
            while (bulkhead.AttemptAcquire() is { IsAcquired: true } lease)
            {
                var latency = outlierPending ? TimeSpan.FromTicks(1_000) : baseLatency * Math.Max(1.0, (inFlight.Count + 1) / (double)capacity);
                outlierPending = false;
                inFlight.Add((time.GetUtcNow() + latency, lease));
            }

            var next = inFlight.Min(f => f.Done);
            time.SetUtcNow(next);
            foreach (var done in inFlight.Where(f => f.Done <= next).ToList())
            {
                done.Lease.Dispose();
                inFlight.Remove(done);
                completed++;
                limits.Add(bulkhead.PermitLimit);
                if (completed == outlierAt)
                {
                    outlierPending = true;
                }
            }
        }

        inspect?.Invoke(bulkhead);
        return limits;
    }
}
