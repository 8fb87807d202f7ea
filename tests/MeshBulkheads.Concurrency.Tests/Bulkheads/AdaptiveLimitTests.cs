using MeshBulkheads.Concurrency.Bulkheads;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class AdaptiveLimitTests
{
    [Fact]
    public void PermitLimit_SimulatedServerWithCapacity20_ConvergesNearCapacity()
    {
        // Arrange: a server that serves up to C requests in 10 ms each; above C latency grows with in-flight/C
        // (a processor-sharing queue). Demand always exceeds the limit (closed loop, deterministic).
        const int capacity = 20;
        var baseLatency = TimeSpan.FromMilliseconds(10);
        var time = new FakeTimeProvider();
        using var bulkhead = new Bulkhead("sim", new BulkheadOptions
        {
            PermitLimit = 5,
            QueueLimit = 0,
            AdaptiveLimit = { Enabled = true, MinLimit = 1, MaxLimit = 200 },
        }, time);
        var inFlight = new List<(DateTimeOffset Done, IDisposable Lease)>();
        var limits = new List<int>();

        // Act
        for (var completed = 0; completed < 5000;)
        {
            while (bulkhead.AttemptAcquire() is { IsAcquired: true } lease)
            {
                var latency = baseLatency * Math.Max(1.0, (inFlight.Count + 1) / (double)capacity);
                inFlight.Add((time.GetUtcNow() + latency, lease));
            }

            var next = inFlight.Min(f => f.Done);
            time.SetUtcNow(next);
            foreach (var done in inFlight.Where(f => f.Done <= next).ToList())
            {
                done.Lease.Dispose();
                inFlight.Remove(done);
                completed++;
            }

            limits.Add(bulkhead.PermitLimit);
        }

        // Assert: the last stretch stays near the true capacity (Vegas keeps a small queue: alpha..beta ≈ 4..8).
        var settled = limits.TakeLast(500).ToList();
        Assert.InRange(settled.Min(), capacity - 2, (int)(capacity * 1.6));
        Assert.InRange(settled.Max(), capacity - 2, (int)(capacity * 1.6));
    }
}
