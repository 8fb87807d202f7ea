using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Render.Budget;

namespace MeshBulkheads.Render.Tests.Budget;

public class TenantWorkBudgetTests
{
    private static (TenantWorkBudget Budget, FakeTimeProvider Time) Create(long rate = 100, long burst = 1_000, bool enabled = true)
    {
        var time = new FakeTimeProvider();
        var options = new RenderOptions { TenantWorkBudget = new TenantWorkBudgetOptions { Enabled = enabled, WorkUnitsPerSecond = rate, Burst = burst } };
        return (new TenantWorkBudget(Options.Create(options), time), time);
    }

    [Fact]
    public void TryCharge_WithinBurst_AdmittedThenRefusedWithTimeUntilCostIsBack()
    {
        // Arrange
        var (budget, _) = Create(rate: 100, burst: 1_000);

        // Act
        var first = budget.TryCharge("a", 800, out _);
        var second = budget.TryCharge("a", 800, out var retryAfter);

        // Assert: 200 left, 600 missing at 100/s = 6 s.
        Assert.True(first);
        Assert.False(second);
        Assert.Equal(TimeSpan.FromSeconds(6), retryAfter);
    }

    [Fact]
    public void TryCharge_AfterElapsedTime_RefillsAtTheRateUpToTheBurst()
    {
        // Arrange
        var (budget, time) = Create(rate: 100, burst: 1_000);
        Assert.True(budget.TryCharge("a", 1_000, out _));

        // Act + Assert: 5.99 s → 599 units, not 600; 6 s → 600; a long idle time never exceeds the burst.
        time.Advance(TimeSpan.FromMilliseconds(5_990));
        Assert.False(budget.TryCharge("a", 600, out _));
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.True(budget.TryCharge("a", 600, out _));
        time.Advance(TimeSpan.FromHours(1));
        Assert.True(budget.TryCharge("a", 1_000, out _));
        Assert.False(budget.TryCharge("a", 1, out _));
    }

    [Fact]
    public void TryCharge_OneTenantSpent_OtherTenantUnaffected()
    {
        // Arrange
        var (budget, _) = Create(rate: 1, burst: 1_000);
        Assert.True(budget.TryCharge("a", 1_000, out _));

        // Act
        var other = budget.TryCharge("b", 1_000, out _);

        // Assert
        Assert.True(other);
        Assert.False(budget.TryCharge("a", 1, out _));
    }

    [Fact]
    public void Refund_RenderNeverRan_CostIsBack()
    {
        // Arrange
        var (budget, _) = Create(rate: 1, burst: 1_000);
        Assert.True(budget.TryCharge("a", 1_000, out _));

        // Act
        budget.Refund("a", 1_000);

        // Assert
        Assert.True(budget.TryCharge("a", 1_000, out _));
    }

    [Fact]
    public void TryCharge_Disabled_AlwaysAdmitted()
    {
        // Arrange
        var (budget, _) = Create(rate: 1, burst: 10, enabled: false);

        // Act + Assert
        Assert.True(budget.TryCharge("a", 1_000_000, out _));
        Assert.True(budget.TryCharge("a", 1_000_000, out _));
    }

    [Fact]
    public void TryCharge_ManyIdleTenants_FullBucketsAreSwept()
    {
        // Arrange: more tenants than the threshold, each charged once, then enough time for every bucket to refill.
        var (budget, time) = Create(rate: 1_000, burst: 1_000);
        for (var i = 0; i <= TenantWorkBudget.SweepThreshold; i++)
        {
            Assert.True(budget.TryCharge($"t{i}", 1, out _));
        }

        time.Advance(TimeSpan.FromSeconds(1));

        // Act
        Assert.True(budget.TryCharge("busy", 1_000, out _));

        // Assert: the full (idle) buckets are gone; the one just charged remains and is still empty.
        Assert.Equal(1, budget.BucketCount);
        Assert.False(budget.TryCharge("busy", 1, out _));
    }

    [Fact]
    public void Charge_Spent_ResourceExhaustedWithReasonAndPushback()
    {
        // Arrange
        var (budget, _) = Create(rate: 100, burst: 1_000);
        budget.Charge("acme", 1_000);

        // Act
        var error = Assert.Throws<RpcException>(() => budget.Charge("acme", 500));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(MeshRejectReasons.TenantWorkBudget, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal("5000", error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Contains("'acme'", error.Status.Detail, StringComparison.Ordinal);
    }
}
