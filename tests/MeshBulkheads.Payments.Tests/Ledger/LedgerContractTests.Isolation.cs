
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Tenants never see each other's accounts.</summary>
public abstract partial class LedgerContractTests
{
    [Fact]
    public async Task AllMethods_AccountOfAnotherTenant_AreIsolated()
    {
        // Arrange
        var acme = Client(Tenant);
        var globex = Client(OtherTenant);
        var account = NewAccount();
        var acmeCharge = Charge(account, 500, "USD");
        await acme.ChargeAsync(acmeCharge, cancellationToken: Ct);

        // Act
        await AssertStatusAsync(StatusCode.NotFound, () => BalanceAsync(globex, account));
        await AssertStatusAsync(StatusCode.NotFound, () => globex.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);
        // Same account id and even the same idempotency key under another tenant: a different account.
        var globexCharge = await globex.ChargeAsync(new ChargeRequest(acmeCharge) { AmountMinor = 7, Currency = "EUR" }, cancellationToken: Ct);
        var acmeBalance = await BalanceAsync(acme, account);
        var globexBalance = await BalanceAsync(globex, account);
        var globexList = await globex.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.False(globexCharge.Replayed);
        Assert.Equal(7, globexCharge.BalanceMinor);
        Assert.Equal((500L, "USD"), (acmeBalance.BalanceMinor, acmeBalance.Currency));
        Assert.Equal((7L, "EUR"), (globexBalance.BalanceMinor, globexBalance.Currency));
        Assert.Equal([globexCharge.PaymentId], globexList.Payments.Select(p => p.PaymentId));
    }

    [Fact]
    public async Task ListPayments_PageTokenOfAnotherTenantsSameAccountId_InvalidArgumentAndNothingListed()
    {
        // Arrange: both tenants have an account with the same id and several pages of payments.
        var acme = Client(Tenant);
        var globex = Client(OtherTenant);
        var account = NewAccount();
        for (var i = 0; i < 3; i++)
        {
            await acme.ChargeAsync(Charge(account, 10 + i, "USD"), cancellationToken: Ct);
            await globex.ChargeAsync(Charge(account, 20 + i, "USD"), cancellationToken: Ct);
        }

        var acmePage = await acme.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 1 }, cancellationToken: Ct);

        // Act: globex replays acme's token for the same account id.
        var replayed = await Assert.ThrowsAsync<RpcException>(() =>
            globex.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 1, PageToken = acmePage.NextPageToken }, cancellationToken: Ct).ResponseAsync);
        var acmeNext = await acme.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 1, PageToken = acmePage.NextPageToken }, cancellationToken: Ct);

        // Assert: refused for globex, still good for acme; the token shows no sequence number.
        Assert.Equal(StatusCode.InvalidArgument, replayed.StatusCode);
        Assert.Contains("page_token", replayed.Status.Detail, StringComparison.Ordinal);
        Assert.Single(acmeNext.Payments);
        Assert.StartsWith("v2.", acmePage.NextPageToken, StringComparison.Ordinal);
    }
}
