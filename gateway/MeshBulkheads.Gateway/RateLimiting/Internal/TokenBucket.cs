using System.Threading.RateLimiting;
using MeshBulkheads.Gateway.Policy;

namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>
/// A <see cref="TokenBucketRateLimiter"/> sized from a <see cref="TokenBucketLimit"/>, taking several
/// tokens per call without queueing, and reporting exactly how long until a rejected call would pass.
/// </summary>
internal sealed class TokenBucket : IDisposable
{
    private readonly TokenBucketRateLimiter _limiter;
    private readonly int _tokensPerPeriod;
    private readonly TimeSpan _period;

    public TokenBucket(TokenBucketLimit limit)
    {
        Limit = limit;
        (_tokensPerPeriod, _period) = TokenBucketMath.Replenishment(limit.TokensPerSecond);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = _tokensPerPeriod,
            ReplenishmentPeriod = _period,
            AutoReplenishment = true,
            // No queue: the gateway answers at once with a pushback instead of holding the call.
            QueueLimit = 0,
        });
    }

    public TokenBucketLimit Limit { get; }

    /// <summary>Takes <paramref name="cost"/> tokens, or says how long until the bucket has them.</summary>
    /// <exception cref="ObjectDisposedException">The bucket was replaced by a reload; ask the new one.</exception>
    public RateLimitDecision TryAcquire(int cost)
    {
        using var lease = _limiter.AttemptAcquire(cost);
        if (lease.IsAcquired)
        {
            return new RateLimitDecision(true, cost, TimeSpan.Zero, Limit);
        }

        var available = _limiter.GetStatistics()?.CurrentAvailablePermits ?? 0;
        var retryAfter = TokenBucketMath.TimeUntilAvailable(cost, available, _tokensPerPeriod, _period);
        // A timer tick between the attempt and the read can leave "enough" tokens: one period is the honest minimum.
        return new RateLimitDecision(false, cost, retryAfter > TimeSpan.Zero ? retryAfter : _period, Limit);
    }

    public void Dispose() => _limiter.Dispose();
}
