using MeshBulkheads.Gateway.Policy;

namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>
/// A token bucket refilled by elapsed <see cref="TimeProvider"/> time (no timer): on every call it adds
/// <c>rate × time since the last call</c>, capped at the burst, then takes the call's cost or says
/// exactly how long until the bucket holds it. A new bucket starts full.
/// </summary>
/// <remarks>
/// <para>It replaces <c>TokenBucketRateLimiter</c> with automatic replenishment, which adds whole tokens
/// per period on a timer and caps them at the burst at every tick: with a burst below the tokens of
/// one period it delivered only <c>Burst / period</c> (100/s with burst 2 gave 40/s). Here the rate is
/// continuous, so the bucket delivers <c>Burst + rate × t</c> whatever the burst.</para>
/// <para>No timer also means nothing captures the <see cref="ExecutionContext"/> of the request that
/// created the bucket (issue 8, item 5) and nothing needs disposing, so a bucket created while a reload
/// replaces its generation leaks nothing.</para>
/// </remarks>
internal sealed class TokenBucket
{
    // Tokens are doubles: a refill of rate × elapsed can leave 0.999999999 where exact arithmetic gives 1.
    private const double Tolerance = 1e-9;

    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly double _rate;
    private readonly double _burst;
    private double _tokens;
    private long _timestamp;

    public TokenBucket(TokenBucketLimit limit, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit.TokensPerSecond);
        Limit = limit;
        _timeProvider = timeProvider;
        _rate = limit.TokensPerSecond;
        _burst = limit.Burst;
        _tokens = _burst;
        _timestamp = timeProvider.GetTimestamp();
    }

    public TokenBucketLimit Limit { get; }

    /// <summary>Takes <paramref name="cost"/> tokens, or says how long until the bucket has them (nothing is taken then).</summary>
    public RateLimitDecision TryAcquire(int cost)
    {
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            var elapsed = _timeProvider.GetElapsedTime(_timestamp, now);
            // A timestamp never goes back with a monotonic provider; if one does, refill nothing rather than drain.
            if (elapsed > TimeSpan.Zero)
            {
                _tokens = Math.Min(_burst, _tokens + (elapsed.Ticks * _rate / TimeSpan.TicksPerSecond));
            }

            _timestamp = now;
            if (_tokens + Tolerance >= cost)
            {
                _tokens = Math.Max(0, _tokens - cost);
                return new RateLimitDecision(true, cost, TimeSpan.Zero, Limit);
            }

            return new RateLimitDecision(false, cost, TimeUntil(cost - _tokens), Limit);
        }
    }

    /// <summary>The time the bucket needs to gain <paramref name="missing"/> tokens, rounded up to a tick (never zero).</summary>
    private TimeSpan TimeUntil(double missing)
    {
        var ticks = Math.Ceiling(missing * TimeSpan.TicksPerSecond / _rate);
        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 1, TimeSpan.MaxValue.Ticks / 2));
    }
}
