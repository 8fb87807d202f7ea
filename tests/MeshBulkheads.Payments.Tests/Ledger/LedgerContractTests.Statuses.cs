
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The gRPC status of every refused call: invalid arguments, unknown accounts, no tenant, overflow, currency.</summary>
public abstract partial class LedgerContractTests
{
    public static TheoryData<string, long, string, string, string> InvalidCharges() => new()
    {
        { string.Empty, 100, "USD", "k", "account_id" },
        { "has space", 100, "USD", "k", "account_id" },
        { "acct/1", 100, "USD", "k", "account_id" },
        { new string('a', 65), 100, "USD", "k", "account_id" },
        { "acct-0001\n", 100, "USD", "k", "account_id" }, // '$' would match before a final newline
        { "acct-1", 100, "USD", "k\0ey", "idempotency_key" }, // NUL: PostgreSQL text cannot hold it
        { "acct-1", 100, "USD", "key\n", "idempotency_key" },
        { "acct-1", 100, "USD", string.Empty, "idempotency_key" },
        { "acct-1", 100, "USD", new string('k', 129), "idempotency_key" },
        { "acct-1", 0, "USD", "k", "amount_minor" },
        { "acct-1", -5, "USD", "k", "amount_minor" },
        { "acct-1", 100, "JPY", "k", "currency" },
        { "acct-1", 100, "usd", "k", "currency" },
        { "acct-1", 100, string.Empty, "k", "currency" },
    };

    [Theory]
    [MemberData(nameof(InvalidCharges))]
    public async Task Charge_InvalidArgument_ReturnsInvalidArgumentNamingTheField(string account, long amount, string currency, string key, string field)
    {
        // Arrange
        var client = Client(Tenant);
        var request = new ChargeRequest { AccountId = account, AmountMinor = amount, Currency = currency, IdempotencyKey = key };

        // Act
        var error = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.ChargeAsync(request, cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Contains(field, error.Status.Detail, StringComparison.Ordinal);
        if (field == "currency")
        {
            Assert.Contains("USD, EUR, GBP", error.Status.Detail.Replace("EUR, GBP, USD", "USD, EUR, GBP", StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GetBalanceAndListPayments_AccountIdWithTrailingNewline_ReturnInvalidArgument()
    {
        // Arrange
        var client = Client(Tenant);
        await client.ChargeAsync(Charge("acct-nl-0001", 1), cancellationToken: Ct);

        // Act
        var balance = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-nl-0001\n" }, cancellationToken: Ct).ResponseAsync);
        var list = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = "acct-nl-0001\n" }, cancellationToken: Ct).ResponseAsync);

        // Assert: named, and echoed bounded with the control character hidden
        Assert.Contains("account_id", balance.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("'acct-nl-0001?'", balance.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("account_id", list.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charge_LongInvalidAccountId_EchoesAtMost64Characters()
    {
        // Arrange
        var client = Client(Tenant);
        // 1,000 characters: over the id rule, under payments' 4 KB receive limit (a larger message is refused by size).
        var account = new string('x', 1_000) + " ";

        // Act
        var error = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.ChargeAsync(Charge(account, 1), cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.DoesNotContain(new string('x', 65), error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1001 characters", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charge_ValidBoundaryLengths_Succeeds()
    {
        // Arrange
        var client = Client(Tenant);
        var account = new string('a', 48) + Guid.NewGuid().ToString("N")[..16];

        // Act
        var response = await client.ChargeAsync(
            new ChargeRequest { AccountId = account, AmountMinor = 1, Currency = "GBP", IdempotencyKey = new string('k', 112) + Guid.NewGuid().ToString("N")[..16] },
            cancellationToken: Ct);

        // Assert
        Assert.Equal(1, response.BalanceMinor);
    }

    public static TheoryData<int, string, string> InvalidListRequests() => new()
    {
        { -1, string.Empty, "page_size" },
        { 101, string.Empty, "page_size" },
        { 10, "not a token!", "page_token" },
        { 10, "AAAA", "page_token" },
        // The old unauthenticated format (base64 of a version byte, a sequence and the account): refused now.
        { 10, "AQAAAAAAAAAFYWNjdC0wMDAy", "page_token" },
        { 10, "v2.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "page_token" },
    };

    [Theory]
    [MemberData(nameof(InvalidListRequests))]
    public async Task ListPayments_InvalidArgument_ReturnsInvalidArgumentNamingTheField(int pageSize, string pageToken, string field)
    {
        // Arrange
        var client = Client(Tenant);
        var request = new ListPaymentsRequest { AccountId = "acct-0001", PageSize = pageSize, PageToken = pageToken };

        // Act
        var error = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.ListPaymentsAsync(request, cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Contains(field, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBalanceAndListPayments_EmptyAccountId_ReturnInvalidArgument()
    {
        // Arrange
        var client = Client(Tenant);

        // Act
        var balance = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.GetBalanceAsync(new GetBalanceRequest(), cancellationToken: Ct).ResponseAsync);
        var list = await AssertStatusAsync(StatusCode.InvalidArgument, () => client.ListPaymentsAsync(new ListPaymentsRequest(), cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Contains("account_id", balance.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("account_id", list.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBalanceAndListPayments_UnknownAccount_ReturnNotFound()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();

        // Act
        var balance = await AssertStatusAsync(StatusCode.NotFound, () => BalanceAsync(client, account));
        var list = await AssertStatusAsync(StatusCode.NotFound, () => client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Contains(account, balance.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(account, list.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charge_NoTenantMetadata_ReturnsUnauthenticated()
    {
        // Arrange
        Backend.EnsureAvailable();
        var client = new PaymentsService.PaymentsServiceClient(Backend.Host.CreateChannel());

        // Act
        var error = await AssertStatusAsync(StatusCode.Unauthenticated, () => client.ChargeAsync(Charge(NewAccount(), 1), cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Contains("x-tenant-id", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Charge_BalanceWouldOverflow_ReturnsFailedPreconditionAndKeepsBalance()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        await client.ChargeAsync(Charge(account, long.MaxValue - 10), cancellationToken: Ct);

        // Act
        var error = await AssertStatusAsync(StatusCode.FailedPrecondition, () => client.ChargeAsync(Charge(account, 11), cancellationToken: Ct).ResponseAsync);
        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.Contains("exceed", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(long.MaxValue - 10, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
    }

    [Fact]
    public async Task Charge_CurrencyDiffersFromAccount_ReturnsFailedPrecondition()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        await client.ChargeAsync(Charge(account, 100, "USD"), cancellationToken: Ct);

        // Act
        var error = await AssertStatusAsync(StatusCode.FailedPrecondition, () => client.ChargeAsync(Charge(account, 100, "EUR"), cancellationToken: Ct).ResponseAsync);
        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.Contains("USD", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(100, balance.BalanceMinor);
        Assert.Equal("USD", balance.Currency);
    }
}
