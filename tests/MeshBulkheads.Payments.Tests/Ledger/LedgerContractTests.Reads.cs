
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Charges, balances and pages on the happy path, and pages read while charges are inserted.</summary>
public abstract partial class LedgerContractTests
{
    [Fact]
    public async Task Charge_NewAccount_CreatesAccountAndAddsUpBalance()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();

        // Act
        var first = await client.ChargeAsync(Charge(account, 1250, "EUR"), cancellationToken: Ct);
        var second = await client.ChargeAsync(Charge(account, 750, "EUR"), cancellationToken: Ct);
        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.True(Guid.TryParse(first.PaymentId, out _), first.PaymentId);
        Assert.NotEqual(first.PaymentId, second.PaymentId);
        Assert.False(first.Replayed);
        Assert.False(second.Replayed);
        Assert.Equal(1250, first.BalanceMinor);
        Assert.Equal(2000, second.BalanceMinor);
        Assert.Equal(account, balance.AccountId);
        Assert.Equal(2000, balance.BalanceMinor);
        Assert.Equal("EUR", balance.Currency);
        Assert.Equal(2, balance.PaymentCount);
    }

    [Fact]
    public async Task ListPayments_SeveralPages_ReturnsNewestFirstWithoutGaps()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var ids = await ChargeEachAsync(client, account, [100, 200, 300, 400, 500]);

        // Act
        var pages = await ReadAllPagesAsync(client, account, pageSize: 2);

        // Assert
        Assert.Equal([2, 2, 1], pages.Select(p => p.Payments.Count));
        var listed = pages.SelectMany(p => p.Payments).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse(), listed.Select(p => p.PaymentId));
        Assert.Equal([500L, 400, 300, 200, 100], listed.Select(p => p.AmountMinor));
        Assert.All(listed, p => Assert.True(p.CreatedAt.Seconds > 0));
        Assert.Equal(string.Empty, pages[^1].NextPageToken);
    }

    [Fact]
    public async Task ListPayments_PageSizeZero_UsesDefaultOfTwenty()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        // Sequential: 21 charges at once to one account would overflow its partition mailbox (16 by default).
        await ChargeEachAsync(client, account, Enumerable.Range(1, 21).Select(i => (long)i));

        // Act
        var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.Equal(20, page.Payments.Count);
        Assert.NotEqual(string.Empty, page.NextPageToken);
    }

    [Fact]
    public async Task ListPayments_ChargesInsertedBetweenPages_NoDuplicatesNoGaps()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var existing = await ChargeEachAsync(client, account, Enumerable.Range(1, 10).Select(i => (long)i));

        // Act: between every page read, concurrent charges add newer payments.
        var listed = new List<string>();
        var token = string.Empty;
        do
        {
            var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 3, PageToken = token }, cancellationToken: Ct);
            listed.AddRange(page.Payments.Select(p => p.PaymentId));
            token = page.NextPageToken;
            await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.ChargeAsync(Charge(account, 1000), cancellationToken: Ct).ResponseAsync));
        }
        while (token.Length > 0);

        // Assert
        Assert.Equal(existing.AsEnumerable().Reverse(), listed);
    }
}
