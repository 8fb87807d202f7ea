
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The charge and read connection pools: exhausting one does not starve the other.</summary>
public abstract partial class LedgerContractTests
{
    [Fact]
    public async Task Charge_ChargePoolExhausted_ReturnsUnavailableWithRejectReason()
    {
        // Arrange
        var host = await StartSmallPoolReplicaAsync();
        var pools = PaymentsHostScope.Store<SqlLedgerStore>(host);
        var client = Client(Tenant, host);
        using var held = await pools.ChargePool.AcquireAsync(Ct); // the only charge connection

        // Act
        var call = client.ChargeAsync(Charge(NewAccount(), 1), cancellationToken: Ct);
        var error = await AssertStatusAsync(StatusCode.Unavailable, () => call.ResponseAsync);

        // Assert
        Assert.Equal(Api.PaymentsService.PoolTimeoutReason, call.GetTrailers().GetValue(MeshMetadata.RejectReason));
        // The pushback is the pool's MaxPoolWait (200 ms): no connection came free in one whole wait.
        Assert.Equal("200", call.GetTrailers().GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Equal("1", call.GetTrailers().GetValue(MeshMetadata.RetryAfter));
        Assert.Contains("charge", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charge_ReadPoolExhausted_StillSucceeds()
    {
        // Arrange
        var host = await StartSmallPoolReplicaAsync();
        var pools = PaymentsHostScope.Store<SqlLedgerStore>(host);
        var client = Client(Tenant, host);
        var account = NewAccount();
        using var held = await pools.ReadPool.AcquireAsync(Ct); // every read connection taken by "a flood of reads"

        // Act
        var charge = await client.ChargeAsync(Charge(account, 5), cancellationToken: Ct);
        var read = client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        var readError = await AssertStatusAsync(StatusCode.Unavailable, () => read.ResponseAsync);

        // Assert
        Assert.Equal(5, charge.BalanceMinor);
        Assert.Equal(Api.PaymentsService.PoolTimeoutReason, read.GetTrailers().GetValue(MeshMetadata.RejectReason));
        Assert.Contains("read", readError.Status.Detail, StringComparison.Ordinal);
    }
}
