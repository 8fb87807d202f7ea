
namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

/// <summary>
/// Tenant-share accounting while the bulkhead is resized live (the gateway's destination refresher calls
/// <see cref="Bulkhead.UpdateOptions"/> as destinations come and go), interleaved deterministically.
/// </summary>
public sealed class BulkheadTenantShareResizeTests
{
    private static readonly BulkheadRequest Acme = new(Tenant: "acme");
    private static readonly BulkheadRequest Globex = new(Tenant: "globex");

    private static BulkheadOptions Options(int permits, int queue = 0, double share = 0.5) => new()
    {
        PermitLimit = permits,
        QueueLimit = queue,
        TenantMaxShare = share,
        MaxQueueTime = TimeSpan.FromSeconds(10),
    };

    private static async Task<BulkheadLease> AcquireAsync(Bulkhead bulkhead, BulkheadRequest request) =>
        await bulkhead.AcquireAsync(request, TestContext.Current.CancellationToken).DefaultTimeout();

    [Fact]
    public async Task AcquireAsync_SameSizeResizesBetweenArrivals_TenantNeverPassesItsShare()
    {
        // Arrange: 4 permits, no queue, share 0.5 → 2 per tenant; the refresher re-applies the same size between every arrival.
        using var bulkhead = new Bulkhead("reporting", Options(4), new FakeTimeProvider());
        var leases = new List<BulkheadLease>();

        // Act
        for (var i = 0; i < 4; i++)
        {
            bulkhead.UpdateOptions(Options(4));
            leases.Add(await AcquireAsync(bulkhead, Acme));
        }

        var globex = await AcquireAsync(bulkhead, Globex);

        // Assert
        Assert.Equal([true, true, false, false], leases.Select(l => l.IsAcquired));
        Assert.Equal(BulkheadRejectionReason.TenantShare, leases[2].Reason);
        Assert.True(globex.IsAcquired);
    }

    [Fact]
    public async Task AcquireAsync_GrowThenShrinkWhileHolding_ShareFollowsCapacityAndHeldPermitsAreNotRevoked()
    {
        // Arrange: 4 permits (2 per tenant); acme holds 2.
        using var bulkhead = new Bulkhead("reporting", Options(4), new FakeTimeProvider());
        var first = await AcquireAsync(bulkhead, Acme);
        var second = await AcquireAsync(bulkhead, Acme);

        // Act: a second destination appears (8 permits → 4 per tenant), acme takes a third, the destination goes away.
        bulkhead.UpdateOptions(Options(8));
        var third = await AcquireAsync(bulkhead, Acme);
        bulkhead.UpdateOptions(Options(4));
        var overShare = await AcquireAsync(bulkhead, Acme);
        first.Dispose();
        var stillAtShare = await AcquireAsync(bulkhead, Acme);
        second.Dispose();
        var backUnder = await AcquireAsync(bulkhead, Acme);

        // Assert: 3 for acme only while capacity was 8; after the shrink acme waits until it is under 2 again.
        Assert.True(third.IsAcquired);
        Assert.Equal(BulkheadRejectionReason.TenantShare, overShare.Reason);
        Assert.Equal(BulkheadRejectionReason.TenantShare, stillAtShare.Reason);
        Assert.True(backUnder.IsAcquired);
        third.Dispose();
        backUnder.Dispose();
    }

    [Fact]
    public async Task UpdateOptions_GrowGrantsQueuedWaiter_TenantCountStaysExact()
    {
        // Arrange: 2 permits + 2 queue slots (2 per tenant); acme holds one and queues one.
        using var bulkhead = new Bulkhead("reporting", Options(2, queue: 2), new FakeTimeProvider());
        var globexHeld = await AcquireAsync(bulkhead, Globex);
        var acmeHeld = await AcquireAsync(bulkhead, Acme);
        var acmeQueued = bulkhead.AcquireAsync(Acme, TestContext.Current.CancellationToken);
        Assert.False(acmeQueued.IsCompleted);

        // Act: a resize to 3 permits + 1 slot (still 2 per tenant) grants the queued waiter (its queue slot becomes a permit).
        bulkhead.UpdateOptions(Options(3, queue: 1));
        var granted = await acmeQueued.AsTask().DefaultTimeout();
        var overShare = await AcquireAsync(bulkhead, Acme);
        acmeHeld.Dispose();
        granted.Dispose();
        var afterRelease = new[] { await AcquireAsync(bulkhead, Acme), await AcquireAsync(bulkhead, Acme) };

        // Assert
        Assert.True(granted.IsAcquired);
        Assert.Equal(BulkheadRejectionReason.TenantShare, overShare.Reason);
        Assert.All(afterRelease, l => Assert.True(l.IsAcquired));
        globexHeld.Dispose();
    }

    [Fact]
    public async Task UpdateOptions_ShareSwitchedOnWhileTenantHoldsPermits_CountsTheHeldPermits()
    {
        // Arrange: no share at first; acme takes 3 of 4 permits.
        using var bulkhead = new Bulkhead("reporting", Options(4, share: 1), new FakeTimeProvider());
        var held = new[] { await AcquireAsync(bulkhead, Acme), await AcquireAsync(bulkhead, Acme), await AcquireAsync(bulkhead, Acme) };

        // Act: a reload switches the share on (2 per tenant).
        bulkhead.UpdateOptions(Options(4, share: 0.5));
        var fourth = await AcquireAsync(bulkhead, Acme);
        var globex = await AcquireAsync(bulkhead, Globex);

        // Assert: acme is already over its share (before the fix its count restarted at 0 and it got the last permit).
        Assert.All(held, l => Assert.True(l.IsAcquired));
        Assert.Equal(BulkheadRejectionReason.TenantShare, fourth.Reason);
        Assert.True(globex.IsAcquired);
    }
}
