using System.Net;
using MeshBulkheads.Payments.Seeding;
using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Seeded demo data, start-up readiness and the pool metrics a host exports.</summary>
public abstract partial class LedgerContractTests
{
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
                var balance = await BalanceAsync(client, account);
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
        await BalanceAsync(client, account);
        using var admin = Backend.Host.CreateAdminClient();

        // Act
        var metrics = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        // Assert
        Assert.Contains("meshbulkheads_db_pool_request_time_in_queue_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains($"db_system=\"{Backend.DbSystem}\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_pool=\"charge\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_pool=\"read\"", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_db_pool_permit_limit", metrics, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_db_pool_active_requests", metrics, StringComparison.Ordinal);
    }
}
