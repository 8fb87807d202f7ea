
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
}
