using System.Threading.RateLimiting;
using MeshBulkheads.Gateway.RateLimiting.Internal;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

public class TokenBucketMathTests
{
    [Theory]
    [InlineData(10, 1, 100)]     // slow: one token per 100 ms
    [InlineData(20, 1, 50)]
    [InlineData(200, 10, 50)]
    [InlineData(50, 3, 60)]      // 2.5 tokens per 50 ms is not whole: 3 per 60 ms is exactly 50/s
    [InlineData(0.5, 1, 2000)]
    public void Replenishment_Rate_WholeTokensPerPeriodGivingExactlyTheRate(double rate, int expectedTokens, int expectedPeriodMs)
    {
        // Act
        var (tokens, period) = TokenBucketMath.Replenishment(rate);

        // Assert
        Assert.Equal(expectedTokens, tokens);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedPeriodMs), period);
        Assert.Equal(rate, tokens / period.TotalSeconds, precision: 9);
    }

    [Theory]
    [InlineData(5, 5, 0)]      // enough already
    [InlineData(5, 9, 0)]
    [InlineData(1, 0, 100)]    // one token missing, one per period
    [InlineData(10, 0, 1000)]  // ten missing
    [InlineData(10, 7, 300)]
    public void TimeUntilAvailable_OneTokenPerPeriod_WholePeriodsForTheMissingTokens(int needed, long available, int expectedMs)
    {
        // Act
        var wait = TokenBucketMath.TimeUntilAvailable(needed, available, tokensPerPeriod: 1, TimeSpan.FromMilliseconds(100));

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), wait);
    }

    [Fact]
    public void TimeUntilAvailable_MissingNotAMultipleOfTokensPerPeriod_RoundsUp()
    {
        // Act: 3 tokens missing at 2 per period need 2 periods, not 1.
        var wait = TokenBucketMath.TimeUntilAvailable(needed: 3, available: 0, tokensPerPeriod: 2, TimeSpan.FromMilliseconds(50));

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(100), wait);
    }

    [Fact]
    public void BuiltInRetryAfter_MissingNotAMultipleOfTokensPerPeriod_RoundsDownWhichIsWhyTheGatewayComputesItsOwn()
    {
        // Arrange: manual replenishment, so no timer and no wall clock is involved.
        using var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 3,
            TokensPerPeriod = 2,
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(50),
            AutoReplenishment = false,
            QueueLimit = 0,
        });
        using var drained = limiter.AttemptAcquire(3);

        // Act
        using var rejected = limiter.AttemptAcquire(3);
        rejected.TryGetMetadata(MetadataName.RetryAfter, out var builtIn);
        var ours = TokenBucketMath.TimeUntilAvailable(3, limiter.GetStatistics()!.CurrentAvailablePermits, 2, TimeSpan.FromMilliseconds(50));

        // Assert: the built-in says one period, but after one period only 2 of the 3 tokens are back.
        Assert.True(drained.IsAcquired);
        Assert.False(rejected.IsAcquired);
        Assert.Equal(TimeSpan.FromMilliseconds(50), builtIn);
        Assert.Equal(TimeSpan.FromMilliseconds(100), ours);
    }
}
