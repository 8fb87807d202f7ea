using System.Net;
using System.Threading.RateLimiting;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting.Internal;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>The unauthenticated limiter's partitions: one bucket per source, never more than the cap, refilled by fake time only.</summary>
public sealed class SourcePartitionedRateLimiterTests
{
    private static readonly TokenBucketLimit Limit = new() { TokensPerSecond = 1, Burst = 2 };

    [Fact]
    public void AttemptAcquire_TenThousandSources_PartitionCountNeverAboveTheCap()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var limiter = new SourcePartitionedRateLimiter(Limit, maxSources: 100, time);
        var highest = 0;

        // Act
        for (var i = 0; i < 10_000; i++)
        {
            using var lease = limiter.AttemptAcquire(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
            Assert.True(lease.IsAcquired);
            highest = Math.Max(highest, limiter.PartitionCount);
        }

        // Assert
        Assert.Equal(100, highest);
        Assert.Equal(100, limiter.PartitionCount);
    }

    [Fact]
    public void AttemptAcquire_FloodingSourceKeptRecent_StaysLimitedWhileOlderSourcesAreDropped()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var limiter = new SourcePartitionedRateLimiter(Limit, maxSources: 3, time);
        var flooder = IPAddress.Parse("203.0.113.7");
        limiter.AttemptAcquire(flooder).Dispose();
        limiter.AttemptAcquire(flooder).Dispose();

        // Act: more new sources than the cap, the flooder among them the whole time.
        var rejected = new List<RateLimitLease>();
        for (var i = 1; i <= 10; i++)
        {
            limiter.AttemptAcquire(IPAddress.Parse($"198.51.100.{i}")).Dispose();
            rejected.Add(limiter.AttemptAcquire(flooder));
        }

        // Assert: still drained (never dropped: always the most recent), with the exact refill time as retry-after.
        Assert.All(rejected, lease =>
        {
            Assert.False(lease.IsAcquired);
            Assert.True(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
            Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        });
        Assert.Equal(3, limiter.PartitionCount);
    }

    [Fact]
    public void AttemptAcquire_DrainedSourceAfterFakeRefill_AcquiresAgain()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var limiter = new SourcePartitionedRateLimiter(Limit, maxSources: 10, time);
        var source = IPAddress.Parse("203.0.113.7");
        limiter.AttemptAcquire(source).Dispose();
        limiter.AttemptAcquire(source).Dispose();

        // Act
        using var drained = limiter.AttemptAcquire(source);
        time.Advance(TimeSpan.FromSeconds(1));
        using var refilled = limiter.AttemptAcquire(source);

        // Assert
        Assert.False(drained.IsAcquired);
        Assert.True(refilled.IsAcquired);
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    public void PartitionKey_Addresses_IPv6ByItsSlash64AndMappedIPv4AsIPv4(string a, string b, bool same)
    {
        // Act
        var keyA = SourcePartitionedRateLimiter.PartitionKey(IPAddress.Parse(a));
        var keyB = SourcePartitionedRateLimiter.PartitionKey(IPAddress.Parse(b));

        // Assert
        Assert.Equal(same, keyA.Equals(keyB));
    }
}
