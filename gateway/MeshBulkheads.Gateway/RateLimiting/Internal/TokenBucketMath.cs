namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>
/// Pure arithmetic of a <see cref="System.Threading.RateLimiting.TokenBucketRateLimiter"/> with
/// automatic replenishment: how to express a rate as whole tokens per period, and how long until a
/// bucket holds the tokens a call needs.
/// </summary>
/// <remarks>
/// The limiter's own <c>RetryAfter</c> metadata is whole replenishment periods rounded <em>down</em>
/// (at least one), so a call needing 3 tokens at 2 per period is told "one period" and would be
/// rejected again; <see cref="TimeUntilAvailable"/> rounds up. TokenBucketRateLimiter runs its own
/// timer and takes no TimeProvider, which is why this math is separate and tested on its own.
/// </remarks>
internal static class TokenBucketMath
{
    /// <summary>The replenishment period aimed at: short, so tokens trickle in rather than arrive in lumps.</summary>
    public static readonly TimeSpan TargetPeriod = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Whole tokens per period and the period that together give exactly <paramref name="tokensPerSecond"/>:
    /// at least one token per period, the period near <see cref="TargetPeriod"/> (longer for slow rates).
    /// </summary>
    public static (int TokensPerPeriod, TimeSpan Period) Replenishment(double tokensPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerSecond);
        var tokensPerPeriod = Math.Max(1, (int)Math.Ceiling(tokensPerSecond * TargetPeriod.TotalSeconds));
        var periodTicks = Math.Max(1L, (long)Math.Round(tokensPerPeriod / tokensPerSecond * TimeSpan.TicksPerSecond));
        return (tokensPerPeriod, TimeSpan.FromTicks(periodTicks));
    }

    /// <summary>
    /// How long until a bucket holding <paramref name="available"/> whole tokens holds <paramref name="needed"/>,
    /// assuming nobody else takes any: whole periods, rounded up. Zero when it already does. An upper bound:
    /// the bucket may be part-way through a period and hold a fraction of a token more than it reports.
    /// </summary>
    public static TimeSpan TimeUntilAvailable(int needed, long available, int tokensPerPeriod, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerPeriod);
        var missing = needed - available;
        if (missing <= 0)
        {
            return TimeSpan.Zero;
        }

        var periods = (missing + tokensPerPeriod - 1) / tokensPerPeriod;
        return TimeSpan.FromTicks(period.Ticks * periods);
    }
}
