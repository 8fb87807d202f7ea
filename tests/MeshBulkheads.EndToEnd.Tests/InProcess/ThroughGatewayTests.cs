using System.Security.Cryptography;
using Grpc.Reflection.V1Alpha;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>The public contract, exercised through the real gateway in front of the real services.</summary>
[Collection(InProcessMeshCollection.Name)]
public class ThroughGatewayTests(InProcessMesh mesh)
{
    private PaymentsService.PaymentsServiceClient Payments => new(mesh.GatewayChannel);

    private ReportingService.ReportingServiceClient Reporting => new(mesh.GatewayChannel);

    private RenderService.RenderServiceClient Render => new(mesh.GatewayChannel);

    [Fact]
    public async Task Charge_ThenReadBack_AllPaymentsMethodsAgree()
    {
        // Arrange
        var account = NewAccount();

        // Act
        var first = await Payments.ChargeAsync(Charge(account, 700), InProcessMesh.As(DemoTenants.AcmeKey));
        var second = await Payments.ChargeAsync(Charge(account, 300), InProcessMesh.As(DemoTenants.AcmeKey));
        var balance = await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, InProcessMesh.As(DemoTenants.AcmeKey));
        var list = await Payments.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, InProcessMesh.As(DemoTenants.AcmeKey));

        // Assert
        Assert.False(first.Replayed);
        Assert.Equal(700, first.BalanceMinor);
        Assert.Equal(1000, second.BalanceMinor);
        Assert.Equal(1000, balance.BalanceMinor);
        Assert.Equal("USD", balance.Currency);
        Assert.Equal(2, balance.PaymentCount);
        Assert.Equal([second.PaymentId, first.PaymentId], list.Payments.Select(p => p.PaymentId));
        Assert.Equal(string.Empty, list.NextPageToken);
    }

    [Fact]
    public async Task Charge_SameKeyTwice_ReplaysWithoutChargingAgain()
    {
        // Arrange
        var request = Charge(NewAccount(), 1250);

        // Act
        var first = await Payments.ChargeAsync(request, InProcessMesh.As(DemoTenants.AcmeKey));
        var replay = await Payments.ChargeAsync(request, InProcessMesh.As(DemoTenants.AcmeKey));
        var balance = await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = request.AccountId }, InProcessMesh.As(DemoTenants.AcmeKey));

        // Assert
        Assert.True(replay.Replayed);
        Assert.Equal(first.PaymentId, replay.PaymentId);
        Assert.Equal(1250, balance.BalanceMinor);
    }

    [Fact]
    public async Task BuildReport_SeededAccounts_SumsBalancesInRequestOrder()
    {
        // Arrange
        string[] ids = ["acct-0003", "acct-0001", "acct-0100"];
        var balances = new List<long>();
        foreach (var id in ids)
        {
            balances.Add((await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = id }, InProcessMesh.As(DemoTenants.GlobexKey))).BalanceMinor);
        }

        // Act
        var report = await Reporting.BuildReportAsync(new BuildReportRequest { AccountIds = { ids } }, InProcessMesh.As(DemoTenants.GlobexKey));

        // Assert
        Assert.Equal(ids, report.Accounts.Select(a => a.AccountId));
        Assert.Equal(balances, report.Accounts.Select(a => a.BalanceMinor));
        Assert.Equal(balances.Sum(), report.TotalMinor);
        Assert.All(report.Accounts, a => Assert.True(a.PaymentCount > 0));
    }

    [Fact]
    public async Task Render_SameInputTwice_SameBytesAndMatchingSha256()
    {
        // Arrange
        var request = new RenderRequest { Width = 48, Height = 32, Iterations = 64 };

        // Act
        var first = await Render.RenderAsync(request, InProcessMesh.As(DemoTenants.InitechKey));
        var second = await Render.RenderAsync(request, InProcessMesh.As(DemoTenants.InitechKey));

        // Assert
        Assert.Equal(first.Png, second.Png);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Png.Span)), first.Sha256);
        Assert.Equal((byte)'P', first.Png[1]);
    }

    [Theory]
    [InlineData(DemoTenants.AcmeKey)]
    [InlineData(DemoTenants.GlobexKey)]
    [InlineData(DemoTenants.InitechKey)]
    public async Task GetBalance_SeededAccountsOfEveryDemoTenant_Exist(string apiKey)
    {
        foreach (var id in new[] { "acct-0001", "acct-0050", "acct-0100" })
        {
            var balance = await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = id }, InProcessMesh.As(apiKey));
            Assert.True(balance.BalanceMinor > 0, id);
            Assert.True(balance.PaymentCount > 0, id);
        }
    }

    [Fact]
    public async Task AnyMethod_NoApiKey_Unauthenticated()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(null)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("x-api-key", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyMethod_UnknownApiKey_Unauthenticated()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Reporting.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, InProcessMesh.As("wrong-key")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Charge_SpoofedTenantHeader_IgnoredInFavourOfTheKey()
    {
        // Arrange: globex's key, but the client claims to be acme.
        var account = NewAccount();
        var spoof = new Metadata { { "x-tenant-id", "acme" } };

        // Act
        await Payments.ChargeAsync(Charge(account, 500), InProcessMesh.As(DemoTenants.GlobexKey, spoof));

        // Assert: the account exists for globex, not for acme.
        var globex = await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, InProcessMesh.As(DemoTenants.GlobexKey));
        Assert.Equal(500, globex.BalanceMinor);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task EveryMethod_AnotherTenantsAccount_IsInvisible()
    {
        // Arrange: an account only acme has.
        var account = NewAccount();
        var charge = Charge(account, 900);
        var original = await Payments.ChargeAsync(charge, InProcessMesh.As(DemoTenants.AcmeKey));

        // Act + Assert: globex sees nothing of it...
        await AssertStatus(StatusCode.NotFound, Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, InProcessMesh.As(DemoTenants.GlobexKey)).ResponseAsync);
        await AssertStatus(StatusCode.NotFound, Payments.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account }, InProcessMesh.As(DemoTenants.GlobexKey)).ResponseAsync);
        await AssertStatus(StatusCode.NotFound, Reporting.BuildReportAsync(new BuildReportRequest { AccountIds = { account } }, InProcessMesh.As(DemoTenants.GlobexKey)).ResponseAsync);

        // ...and the same id and key under globex is globex's own first charge, not a replay of acme's.
        var globexCharge = await Payments.ChargeAsync(charge, InProcessMesh.As(DemoTenants.GlobexKey));
        Assert.False(globexCharge.Replayed);
        Assert.NotEqual(original.PaymentId, globexCharge.PaymentId);
        Assert.Equal(900, globexCharge.BalanceMinor);
        var acme = await Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, InProcessMesh.As(DemoTenants.AcmeKey));
        Assert.Equal(900, acme.BalanceMinor);
    }

    [Fact]
    public async Task Statuses_DecidedInTheContract_ReachTheCaller()
    {
        var account = NewAccount();
        await Payments.ChargeAsync(Charge(account, 100), InProcessMesh.As(DemoTenants.AcmeKey));

        await AssertStatus(StatusCode.InvalidArgument, Payments.ChargeAsync(Charge(account, 0), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ChargeAsync(Charge(account, 10, currency: "XXX"), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ChargeAsync(Charge(string.Empty, 10), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ChargeAsync(Charge(account, 10, key: string.Empty), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = -1 }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 100_000 }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Payments.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageToken = "not-a-token" }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Render.RenderAsync(new RenderRequest { Width = 1_000_000 }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Render.RenderAsync(new RenderRequest { Iterations = -1 }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.InvalidArgument, Reporting.BuildReportAsync(new BuildReportRequest(), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.NotFound, Payments.GetBalanceAsync(new GetBalanceRequest { AccountId = NewAccount() }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.FailedPrecondition, Payments.ChargeAsync(Charge(account, 10, currency: "EUR"), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        await AssertStatus(StatusCode.FailedPrecondition, Payments.ChargeAsync(Charge(account, long.MaxValue), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        var reused = Charge(NewAccount(), 10);
        await Payments.ChargeAsync(reused, InProcessMesh.As(DemoTenants.AcmeKey));
        reused.AmountMinor = 11;
        await AssertStatus(StatusCode.AlreadyExists, Payments.ChargeAsync(reused, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
    }

    [Fact]
    public async Task Reflection_V1AlphaWithoutKey_ListsAllServices()
    {
        // Arrange
        var client = new ServerReflection.ServerReflectionClient(mesh.GatewayChannel);
        using var call = client.ServerReflectionInfo(cancellationToken: TestContext.Current.CancellationToken);

        // Act
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty }, TestContext.Current.CancellationToken);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        // Assert
        Assert.Contains("meshbulkheads.payments.v1.PaymentsService", names);
        Assert.Contains("meshbulkheads.reporting.v1.ReportingService", names);
        Assert.Contains("meshbulkheads.render.v1.RenderService", names);
    }

    [Fact]
    public async Task Metrics_EveryAdminPort_ServesPrometheusText()
    {
        foreach (var host in mesh.All)
        {
            using var admin = host.CreateAdminClient();
            using var response = await admin.GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, host.Endpoints.Admin.ToString());
            Assert.Contains("target_info", text, StringComparison.Ordinal);
            Assert.Contains("meshbulkheads_threadpool_lag_seconds", text, StringComparison.Ordinal);
        }
    }

    private static string NewAccount() => "e2e-" + Guid.NewGuid().ToString("N")[..12];

    private static ChargeRequest Charge(string account, long amount, string currency = "USD", string? key = null) => new()
    {
        AccountId = account,
        AmountMinor = amount,
        Currency = currency,
        IdempotencyKey = key ?? Guid.NewGuid().ToString(),
    };

    private static async Task AssertStatus<T>(StatusCode expected, Task<T> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.DefaultTimeout());
        Assert.True(expected == ex.StatusCode, $"expected {expected}, got {ex.StatusCode}: {ex.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail), "every error carries a message");
    }
}
