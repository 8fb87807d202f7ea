using System.Net;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.Payments.Seeding;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>
/// The payments contract, written once and run against every ledger backend through real Kestrel
/// and a real gRPC client that sends <c>x-tenant-id</c> like the gateway does.
/// </summary>
public abstract class LedgerContractTests(LedgerBackend backend)
{
    private const string Tenant = "acme";
    private const string OtherTenant = "globex";

    protected LedgerBackend Backend { get; } = backend;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // ---- Charge / GetBalance / ListPayments happy paths ----

    [Fact]
    public async Task Charge_NewAccount_CreatesAccountAndAddsUpBalance()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();

        // Act
        var first = await client.ChargeAsync(Charge(account, 1250, "EUR"), cancellationToken: Ct);
        var second = await client.ChargeAsync(Charge(account, 750, "EUR"), cancellationToken: Ct);
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

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
        var ids = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            ids.Add((await client.ChargeAsync(Charge(account, i * 100), cancellationToken: Ct)).PaymentId);
        }

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
        for (var i = 1; i <= 21; i++)
        {
            await client.ChargeAsync(Charge(account, i), cancellationToken: Ct);
        }

        // Act
        var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.Equal(20, page.Payments.Count);
        Assert.NotEqual(string.Empty, page.NextPageToken);
    }

    // ---- Statuses ----

    public static TheoryData<string, long, string, string, string> InvalidCharges() => new()
    {
        { string.Empty, 100, "USD", "k", "account_id" },
        { "has space", 100, "USD", "k", "account_id" },
        { "acct/1", 100, "USD", "k", "account_id" },
        { new string('a', 65), 100, "USD", "k", "account_id" },
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
        { 10, PageToken.Encode("acct-0002", 5), "page_token" },
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
        var balance = await AssertStatusAsync(StatusCode.NotFound, () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);
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
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

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
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.Contains("USD", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(100, balance.BalanceMinor);
        Assert.Equal("USD", balance.Currency);
    }

    // ---- Idempotency ----

    [Fact]
    public async Task Charge_SameKeySamePayload_ReplaysOriginalPayment()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var request = Charge(account, 300);
        var original = await client.ChargeAsync(request, cancellationToken: Ct);
        await client.ChargeAsync(Charge(account, 200), cancellationToken: Ct);

        // Act
        var replay = await client.ChargeAsync(request, cancellationToken: Ct);
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.True(replay.Replayed);
        Assert.Equal(original.PaymentId, replay.PaymentId);
        Assert.Equal(300, replay.BalanceMinor); // the balance right after the original, not now
        Assert.Equal(500, balance.BalanceMinor);
        Assert.Equal(2, balance.PaymentCount);
    }

    [Fact]
    public async Task Charge_SameKeyDifferentPayload_ReturnsAlreadyExists()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var original = Charge(account, 300);
        await client.ChargeAsync(original, cancellationToken: Ct);
        ChargeRequest[] conflicting =
        [
            new(original) { AmountMinor = 301 },
            new(original) { AccountId = NewAccount() },
            new(original) { Currency = "EUR" },
        ];

        // Act
        var errors = new List<RpcException>();
        foreach (var request in conflicting)
        {
            errors.Add(await AssertStatusAsync(StatusCode.AlreadyExists, () => client.ChargeAsync(request, cancellationToken: Ct).ResponseAsync));
        }

        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.All(errors, e => Assert.Contains(original.IdempotencyKey, e.Status.Detail, StringComparison.Ordinal));
        Assert.Equal(300, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
        await AssertStatusAsync(StatusCode.NotFound, () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = conflicting[1].AccountId }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Charge_SixteenRacingCallsOneKey_ChargesOnce()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var request = Charge(account, 4200);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 16).Select(async _ =>
        {
            await start.Task;
            return await client.ChargeAsync(request, cancellationToken: Ct);
        }).ToList();

        // Act
        start.SetResult();
        var responses = await Task.WhenAll(calls).DefaultTimeout();
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.Single(responses.Select(r => r.PaymentId).Distinct());
        Assert.Single(responses, r => !r.Replayed);
        Assert.Equal(15, responses.Count(r => r.Replayed));
        Assert.All(responses, r => Assert.Equal(4200, r.BalanceMinor));
        Assert.Equal(4200, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
    }

    [Fact]
    public async Task Charge_OneKeyRacingOnTwoAccounts_RecordsOneAndRefusesTheOther()
    {
        // Arrange: different accounts take different row locks, so only the unique index can decide.
        var client = Client(Tenant);
        var key = Guid.NewGuid().ToString();
        string[] accounts = [NewAccount(), NewAccount()];
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 16).Select(async i =>
        {
            await start.Task;
            var request = new ChargeRequest { AccountId = accounts[i % 2], AmountMinor = 10, Currency = "USD", IdempotencyKey = key };
            try
            {
                return (Response: (ChargeResponse?)await client.ChargeAsync(request, cancellationToken: Ct), Status: StatusCode.OK);
            }
            catch (RpcException ex)
            {
                return (Response: (ChargeResponse?)null, Status: ex.StatusCode);
            }
        }).ToList();

        // Act
        start.SetResult();
        var results = await Task.WhenAll(calls).DefaultTimeout();
        var balances = new List<long>();
        foreach (var account in accounts)
        {
            try
            {
                balances.Add((await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct)).BalanceMinor);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                balances.Add(0);
            }
        }

        // Assert
        Assert.All(results, r => Assert.Contains(r.Status, new[] { StatusCode.OK, StatusCode.AlreadyExists }));
        Assert.Single(results.Where(r => r.Response is not null).Select(r => r.Response!.PaymentId).Distinct());
        Assert.Single(results, r => r.Response is { Replayed: false });
        Assert.Equal(8, results.Count(r => r.Status == StatusCode.AlreadyExists));
        Assert.Equal([0L, 10L], balances.Order());
    }

    [Fact]
    public async Task Charge_RacingCallsAcrossTwoReplicas_ChargesOnce()
    {
        // Arrange
        var client = Client(Tenant);
        var replica = await Backend.StartHostAsync(WithSettings(Backend.HostConfiguration, ("Payments:Seed", "false")));
        var replicaClient = Client(Tenant, replica);
        var account = NewAccount();
        var request = Charge(account, 99);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 16).Select(async i =>
        {
            await start.Task;
            return await (i % 2 == 0 ? client : replicaClient).ChargeAsync(request, cancellationToken: Ct);
        }).ToList();

        // Act
        start.SetResult();
        var responses = await Task.WhenAll(calls).DefaultTimeout();
        var balance = await replicaClient.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.Single(responses.Select(r => r.PaymentId).Distinct());
        Assert.Single(responses, r => !r.Replayed);
        Assert.Equal(99, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
    }

    // ---- Pagination under concurrent inserts ----

    [Fact]
    public async Task ListPayments_ChargesInsertedBetweenPages_NoDuplicatesNoGaps()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var existing = new List<string>();
        for (var i = 1; i <= 10; i++)
        {
            existing.Add((await client.ChargeAsync(Charge(account, i), cancellationToken: Ct)).PaymentId);
        }

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

    // ---- Tenant isolation ----

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
        await AssertStatusAsync(StatusCode.NotFound, () => globex.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);
        await AssertStatusAsync(StatusCode.NotFound, () => globex.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);
        // Same account id and even the same idempotency key under another tenant: a different account.
        var globexCharge = await globex.ChargeAsync(new ChargeRequest(acmeCharge) { AmountMinor = 7, Currency = "EUR" }, cancellationToken: Ct);
        var acmeBalance = await acme.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        var globexBalance = await globex.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        var globexList = await globex.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, cancellationToken: Ct);

        // Assert
        Assert.False(globexCharge.Replayed);
        Assert.Equal(7, globexCharge.BalanceMinor);
        Assert.Equal((500L, "USD"), (acmeBalance.BalanceMinor, acmeBalance.Currency));
        Assert.Equal((7L, "EUR"), (globexBalance.BalanceMinor, globexBalance.Currency));
        Assert.Equal([globexCharge.PaymentId], globexList.Payments.Select(p => p.PaymentId));
    }

    // ---- Seeded data, start-up ----

    [Fact]
    public async Task SeededTenants_DemoAccounts_ExistWithBalanceEqualToListedPayments()
    {
        foreach (var tenant in new[] { "acme", "globex", "initech" })
        {
            // Arrange
            var client = Client(tenant);
            var expected = LedgerWarmup.SeedCharges(tenant).GroupBy(c => c.AccountId).ToDictionary(g => g.Key, g => g.ToList());

            foreach (var index in new[] { 1, 2, 3, 50, 100 })
            {
                var account = LedgerWarmup.AccountId(index);

                // Act
                var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
                var list = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 100 }, cancellationToken: Ct);

                // Assert
                Assert.Equal("USD", balance.Currency);
                Assert.Equal(expected[account].Count, balance.PaymentCount);
                Assert.Equal(list.Payments.Count, balance.PaymentCount);
                Assert.Equal(list.Payments.Sum(p => p.AmountMinor), balance.BalanceMinor);
                Assert.Equal(expected[account].Sum(c => c.AmountMinor), balance.BalanceMinor);
            }

            await AssertStatusAsync(StatusCode.NotFound, () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0101" }, cancellationToken: Ct).ResponseAsync);
        }
    }

    [Fact]
    public async Task Seed_TwoHostsStartTogetherOnOneLedger_RecordsEveryPaymentOnce()
    {
        // Arrange
        Backend.EnsureAvailable();
        var configuration = WithSettings(await Backend.NewLedgerAsync(), ("Payments:SeedTenants", "initech"));

        // Act
        var hosts = await Task.WhenAll(Backend.StartHostAsync(configuration), Backend.StartHostAsync(configuration)).DefaultTimeout();

        // Assert
        var client = Client("initech", hosts[0]);
        var expected = LedgerWarmup.SeedCharges("initech").GroupBy(c => c.AccountId).ToList();
        Assert.Equal(LedgerWarmup.AccountCount, expected.Count);
        foreach (var account in expected)
        {
            var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account.Key }, cancellationToken: Ct);
            Assert.Equal(account.Count(), balance.PaymentCount);
            Assert.Equal(account.Sum(c => c.AmountMinor), balance.BalanceMinor);
        }

        await AssertStatusAsync(StatusCode.NotFound, () => Client("acme", hosts[1]).GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Readyz_UntilWarmupEnds_IsUnavailableThenOk()
    {
        // Arrange
        Backend.EnsureAvailable();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var configuration = WithSettings(await Backend.NewLedgerAsync(), ("Payments:Seed", "false"));
        var host = await Backend.StartHostAsync(
            configuration,
            builder => builder.Services.AddSingleton<IWarmup>(new LedgerBackend.SignalWarmup(reached, gate.Task)),
            waitForWarmup: false);
        using var admin = host.CreateAdminClient();
        await reached.Task.DefaultTimeout();

        // Act
        using var before = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        gate.SetResult();
        var after = await PollStatusAsync(admin, "/readyz", HttpStatusCode.OK);

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task Metrics_AfterCalls_ExportPoolWaitTimeForBothPools()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        await client.ChargeAsync(Charge(account, 1), cancellationToken: Ct);
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        using var admin = Backend.Host.CreateAdminClient();

        // Act
        var metrics = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        // Assert
        Assert.Contains("meshbulkheads_db_pool_wait_time_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains($"db_system=\"{Backend.DbSystem}\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_pool=\"charge\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_pool=\"read\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_db_pool_limit", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_db_pool_in_use", metrics, StringComparison.Ordinal);
    }

    // ---- Connection pools ----

    [Fact]
    public async Task Charge_ChargePoolExhausted_ReturnsUnavailableWithRejectReason()
    {
        // Arrange
        var host = await StartSmallPoolReplicaAsync();
        var pools = (SqlLedgerStore)host.Services.GetRequiredService<ILedgerStore>();
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
        var pools = (SqlLedgerStore)host.Services.GetRequiredService<ILedgerStore>();
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

    // ---- helpers ----

    private Task<KestrelHost> StartSmallPoolReplicaAsync()
    {
        Backend.EnsureAvailable();
        return Backend.StartHostAsync(WithSettings(
            Backend.HostConfiguration,
            ("Payments:Seed", "false"),
            ("Payments:Database:ChargePoolSize", "1"),
            ("Payments:Database:ReadPoolSize", "1"),
            ("Payments:Database:MaxPoolWait", "00:00:00.200")));
    }

    protected PaymentsService.PaymentsServiceClient Client(string tenant, KestrelHost? host = null)
    {
        Backend.EnsureAvailable();
        var invoker = (host ?? Backend.Host).CreateChannel().Intercept(metadata =>
        {
            metadata.Add("x-tenant-id", tenant);
            return metadata;
        });
        return new PaymentsService.PaymentsServiceClient(invoker);
    }

    protected static string NewAccount() => "t-" + Guid.NewGuid().ToString("N")[..20];

    protected static ChargeRequest Charge(string account, long amount, string currency = "USD") => new()
    {
        AccountId = account,
        AmountMinor = amount,
        Currency = currency,
        IdempotencyKey = Guid.NewGuid().ToString(),
    };

    protected static async Task<RpcException> AssertStatusAsync(StatusCode expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call).DefaultTimeout();
        Assert.True(expected == error.StatusCode, $"Expected {expected}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    private static Dictionary<string, string?> WithSettings(IReadOnlyDictionary<string, string?> configuration, params (string Key, string Value)[] settings)
    {
        var result = configuration.ToDictionary();
        foreach (var (key, value) in settings)
        {
            result[key] = value;
        }

        return result;
    }

    private static async Task<List<ListPaymentsResponse>> ReadAllPagesAsync(PaymentsService.PaymentsServiceClient client, string account, int pageSize)
    {
        var pages = new List<ListPaymentsResponse>();
        var token = string.Empty;
        do
        {
            var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = pageSize, PageToken = token }, cancellationToken: Ct);
            pages.Add(page);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return pages;
    }

    private static async Task<HttpStatusCode> PollStatusAsync(HttpClient client, string path, HttpStatusCode wanted)
    {
        // Readiness flips right after the last warm-up returns, on another thread: poll, bounded.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (true)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), timeout.Token);
            if (response.StatusCode == wanted)
            {
                return response.StatusCode;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
        }
    }
}
