using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Render.Budget;

/// <summary>
/// A token bucket per tenant, in render work units (width × height × iterations): a render is admitted only
/// when its tenant's bucket holds its whole cost. Refill is computed from elapsed <see cref="TimeProvider"/>
/// time at each charge — no timer, so nothing captures a request's <c>ExecutionContext</c> and nothing needs disposing.
/// </summary>
/// <remarks>
/// Not a <c>System.Threading.RateLimiting</c> limiter: its permit counts are <c>int</c>, while one maximal
/// render is ≈ 2 × 10¹⁰ work units, and its replenishment is driven by a timer rather than a
/// <see cref="TimeProvider"/>. A missing tenant (a direct caller) shares one bucket. A full bucket is the same as
/// a new one, so once more than <see cref="SweepThreshold"/> tenants have buckets, full ones are dropped.
/// </remarks>
public sealed class TenantWorkBudget(IOptions<RenderOptions> options, TimeProvider timeProvider)
{
    /// <summary>Above this many buckets, full (idle) buckets are removed at the next charge.</summary>
    public const int SweepThreshold = 1024;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Tenants with a bucket right now.</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>Charges <paramref name="workUnits"/> to <paramref name="tenant"/>, or throws <c>RESOURCE_EXHAUSTED</c> with pushback.</summary>
    public void Charge(string? tenant, long workUnits)
    {
        if (!TryCharge(tenant, workUnits, out var retryAfter))
        {
            var settings = options.Value;
            var budget = settings.TenantWorkBudget;
            var bounded = BulkheadRejectionMapper.BoundRetryAfter(retryAfter);
            throw new MeshRejection(
                StatusCode.ResourceExhausted,
                MeshRejectReasons.TenantWorkBudget,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Tenant {EchoedValue.Quote(tenant ?? string.Empty)} has spent its render work budget ({budget.WorkUnitsPerSecond} work units/s, burst {budget.Burst ?? settings.MaxWorkUnits}); this render costs {workUnits} (width × height × iterations). Retry after {MeshRejection.ToPushbackMilliseconds(bounded)} ms, or send smaller renders."),
                bounded).ToRpcException();
        }
    }

    /// <summary>Takes <paramref name="workUnits"/> from the tenant's bucket when it holds them all.</summary>
    /// <param name="tenant">The caller's <c>x-tenant-id</c>; null shares one bucket.</param>
    /// <param name="workUnits">The render's cost.</param>
    /// <param name="retryAfter">When refused: the time until the bucket holds the cost.</param>
    /// <returns>True when charged (or the budget is disabled).</returns>
    public bool TryCharge(string? tenant, long workUnits, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var settings = options.Value;
        var budget = settings.TenantWorkBudget;
        if (!budget.Enabled)
        {
            return true;
        }

        var capacity = (double)(budget.Burst ?? settings.MaxWorkUnits);
        var rate = (double)budget.WorkUnitsPerSecond;
        if (_buckets.Count > SweepThreshold)
        {
            Sweep(capacity, rate);
        }

        while (true)
        {
            var bucket = _buckets.GetOrAdd(tenant ?? string.Empty, static (_, state) => new Bucket(state.Capacity, state.Now), (Capacity: capacity, Now: timeProvider.GetTimestamp()));
            lock (bucket)
            {
                if (bucket.Removed)
                {
                    // Swept between the lookup and the lock: charge the tenant's new bucket instead.
                    continue;
                }

                bucket.Refill(timeProvider, capacity, rate);
                if (bucket.Tokens >= workUnits)
                {
                    bucket.Tokens -= workUnits;
                    return true;
                }

                retryAfter = TimeSpan.FromSeconds((workUnits - bucket.Tokens) / rate);
                return false;
            }
        }
    }

    /// <summary>Gives back a charge for a render that never ran (refused by the bulkhead, or cancelled while waiting).</summary>
    public void Refund(string? tenant, long workUnits)
    {
        var settings = options.Value;
        if (!settings.TenantWorkBudget.Enabled || !_buckets.TryGetValue(tenant ?? string.Empty, out var bucket))
        {
            return;
        }

        var capacity = (double)(settings.TenantWorkBudget.Burst ?? settings.MaxWorkUnits);
        lock (bucket)
        {
            if (!bucket.Removed)
            {
                bucket.Refill(timeProvider, capacity, settings.TenantWorkBudget.WorkUnitsPerSecond);
                bucket.Tokens = Math.Min(capacity, bucket.Tokens + workUnits);
            }
        }
    }

    private void Sweep(double capacity, double rate)
    {
        foreach (var (tenant, bucket) in _buckets)
        {
            lock (bucket)
            {
                bucket.Refill(timeProvider, capacity, rate);
                if (bucket.Tokens < capacity)
                {
                    continue;
                }

                bucket.Removed = true;
            }

            _buckets.TryRemove(new KeyValuePair<string, Bucket>(tenant, bucket));
        }
    }

    private sealed class Bucket(double tokens, long timestamp)
    {
        public double Tokens { get; set; } = tokens;

        public bool Removed { get; set; }

        private long Timestamp { get; set; } = timestamp;

        public void Refill(TimeProvider timeProvider, double capacity, double rate)
        {
            var now = timeProvider.GetTimestamp();
            var elapsed = timeProvider.GetElapsedTime(Timestamp, now);
            Timestamp = now;
            if (elapsed > TimeSpan.Zero)
            {
                Tokens = Math.Min(capacity, Tokens + (elapsed.TotalSeconds * rate));
            }
        }
    }
}
