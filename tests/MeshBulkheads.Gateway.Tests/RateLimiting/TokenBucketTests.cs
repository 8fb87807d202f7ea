using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting.Internal;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>
/// The in-process bucket against an ideal token bucket (exact integer arithmetic), on
/// <see cref="FakeTimeProvider"/> time only: no timer, no wall clock.
/// </summary>
public class TokenBucketTests
{
    private const int RequestsPerSchedule = 3_000;

    /// <summary>Seeded schedules: each seed draws a rate of 1–1000/s; every burst (1, 2, the rate) and cost (1, 5, 10).</summary>
    public static TheoryData<int, int, int, int> Schedules()
    {
        var data = new TheoryData<int, int, int, int>();
        for (var seed = 1; seed <= 8; seed++)
        {
            var rate = new Random(seed).Next(1, 1001);
            foreach (var burst in new[] { 1, 2, rate })
            {
                foreach (var cost in new[] { 1, 5, 10 })
                {
                    data.Add(seed, rate, burst, cost);
                }
            }
        }

        data.Add(100, 100, 2, 1);  // the case: 100/s with burst 2 used to give 40/s
        data.Add(101, 1000, 1, 1);
        data.Add(102, 1, 10, 10);
        return data;
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void TryAcquire_SeededSchedule_AdmitsWithinOneCostOfAnIdealBucket(int seed, int rate, int burst, int cost)
    {
        // Arrange: gaps between calls from 0 to 2 × the time one cost takes to refill, so the bucket is
        // sometimes starved and sometimes full.
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(new TokenBucketLimit { TokensPerSecond = rate, Burst = burst }, time);
        var ideal = new IdealBucket(rate, burst);
        var random = new Random(seed * 7919);
        var maxGapTicks = 2L * cost * TimeSpan.TicksPerSecond / rate;
        long admitted = 0;
        long admittedIdeal = 0;
        var elapsedTicks = 0L;

        // Act
        for (var i = 0; i < RequestsPerSchedule; i++)
        {
            var gap = random.NextInt64(0, maxGapTicks + 1);
            time.Advance(TimeSpan.FromTicks(gap));
            elapsedTicks += gap;
            if (bucket.TryAcquire(cost).Allowed)
            {
                admitted += cost;
            }

            if (ideal.TryAcquire(gap, cost))
            {
                admittedIdeal += cost;
            }
        }

        // Assert: the tokens admitted match the ideal within one cost (never more than burst + rate × t).
        var bound = burst + ((double)rate * elapsedTicks / TimeSpan.TicksPerSecond);
        Assert.True(
            Math.Abs(admitted - admittedIdeal) <= cost && admitted <= bound + cost,
            $"seed {seed}, rate {rate}/s, burst {burst}, cost {cost}: admitted {admitted} tokens, the ideal bucket {admittedIdeal} (bound {bound:F1})");
    }

    [Fact]
    public void TryAcquire_Rate100Burst2CalledEveryMillisecond_Delivers100PerSecond()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(new TokenBucketLimit { TokensPerSecond = 100, Burst = 2 }, time);
        var admitted = 0;

        // Act: 10 s of calls, one per millisecond.
        for (var i = 0; i < 10_000; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            admitted += bucket.TryAcquire(1).Allowed ? 1 : 0;
        }

        // Assert: the burst plus 100/s for 10 s (the timer-replenished limiter gave about 40/s).
        Assert.InRange(admitted, 1_000, 1_002);
    }

    [Theory]
    [InlineData(10, 20, 10)]
    [InlineData(3, 5, 5)]
    [InlineData(1000, 1, 1)]
    [InlineData(0.5, 1, 1)]
    public void TryAcquire_Rejected_RetryAfterIsExactlyWhenTheCostIsBack(double rate, int burst, int cost)
    {
        // Arrange: drain the bucket, then let a third of a token back in.
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(new TokenBucketLimit { TokensPerSecond = rate, Burst = burst }, time);
        while (bucket.TryAcquire(1).Allowed)
        {
        }

        time.Advance(TimeSpan.FromSeconds(1 / rate / 3));

        // Act
        var rejected = bucket.TryAcquire(cost);
        time.Advance(rejected.RetryAfter - TimeSpan.FromTicks(10));
        var early = bucket.TryAcquire(cost);
        time.Advance(early.RetryAfter);
        var onTime = bucket.TryAcquire(cost);

        // Assert: the pushback is the missing tokens ÷ rate (to a tick or two of rounding): 10 ticks early is too early.
        Assert.False(rejected.Allowed);
        var expected = TimeSpan.FromSeconds((cost - (1.0 / 3)) / rate);
        Assert.InRange(rejected.RetryAfter, expected - TimeSpan.FromTicks(2), expected + TimeSpan.FromTicks(2));
        Assert.False(early.Allowed);
        Assert.InRange(early.RetryAfter, TimeSpan.FromTicks(9), TimeSpan.FromTicks(11));
        Assert.True(onTime.Allowed);
    }

    [Fact]
    public void TryAcquire_IdleLongerThanBurstTakes_HoldsOnlyTheBurst()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(new TokenBucketLimit { TokensPerSecond = 10, Burst = 3 }, time);
        Assert.True(bucket.TryAcquire(3).Allowed);

        // Act: an hour idle.
        time.Advance(TimeSpan.FromHours(1));
        var full = bucket.TryAcquire(3);
        var next = bucket.TryAcquire(1);

        // Assert
        Assert.True(full.Allowed);
        Assert.False(next.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(100), next.RetryAfter);
    }

    /// <summary>A token bucket in exact arithmetic: tokens are counted in token-ticks (tokens × ticks per second).</summary>
    private sealed class IdealBucket(int rate, int burst)
    {
        private readonly long _capacity = burst * TimeSpan.TicksPerSecond;
        private long _tokenTicks = burst * TimeSpan.TicksPerSecond;

        public bool TryAcquire(long elapsedTicks, int cost)
        {
            _tokenTicks = Math.Min(_capacity, _tokenTicks + (elapsedTicks * rate));
            if (_tokenTicks < cost * TimeSpan.TicksPerSecond)
            {
                return false;
            }

            _tokenTicks -= cost * TimeSpan.TicksPerSecond;
            return true;
        }
    }
}
