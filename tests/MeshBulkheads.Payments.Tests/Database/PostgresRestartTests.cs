using MeshBulkheads.Testing.Postgres;

namespace MeshBulkheads.Payments.Tests.Database;

/// <summary>
/// The database pools across a real PostgreSQL restart (a private server: the run's shared one is never stopped).
/// </summary>
[Collection(Ledger.LedgerCollection.Name)]
public sealed class PostgresRestartTests : PaymentsHostTests, IAsyncLifetime
{
    private readonly PostgresFixture _server = new();

    [Fact]
    public async Task Calls_AfterPostgresRestart_SucceedOnFreshConnections()
    {
        // Arrange: both pools hold idle connections (three each at most) when the server restarts.
        var client = await StartHostAsync(validateIdleAfter: "00:00:00");
        var accounts = Enumerable.Range(0, 3).Select(i => $"restart-{i}-{Guid.NewGuid():N}"[..24]).ToList();
        await Task.WhenAll(accounts.Select(a => client.ChargeAsync(PaymentsHostScope.Charge(a, 1), cancellationToken: Ct).ResponseAsync)).DefaultTimeout();
        await Task.WhenAll(accounts.Select(a => client.GetBalanceAsync(new GetBalanceRequest { AccountId = a }, cancellationToken: Ct).ResponseAsync)).DefaultTimeout();

        // Act
        await _server.RestartServerAsync().DefaultTimeout();
        var outcomes = new List<StatusCode>();
        foreach (var account in accounts)
        {
            outcomes.Add(await CallStatus.OfAsync(client.ChargeAsync(PaymentsHostScope.Charge(account, 1), cancellationToken: Ct).ResponseAsync.DefaultTimeout()));
            outcomes.Add(await CallStatus.OfAsync(client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync.DefaultTimeout()));
        }

        // Assert: every idle connection was checked and replaced; none reached a caller as an error.
        Assert.All(outcomes, s => Assert.Equal(StatusCode.OK, s));
    }

    [Fact]
    public async Task Calls_PostgresDown_ReturnUnavailableWithDbUnavailableThenRecover()
    {
        // Arrange
        var client = await StartHostAsync(validateIdleAfter: "00:00:01");
        var account = $"down-{Guid.NewGuid():N}"[..24];
        await client.ChargeAsync(PaymentsHostScope.Charge(account, 5), cancellationToken: Ct);

        // Act
        await _server.StopServerAsync().DefaultTimeout();
        var charge = client.ChargeAsync(PaymentsHostScope.Charge(account, 1), cancellationToken: Ct);
        var chargeError = await Assert.ThrowsAsync<RpcException>(() => charge.ResponseAsync).DefaultTimeout();
        var read = client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        var readError = await Assert.ThrowsAsync<RpcException>(() => read.ResponseAsync).DefaultTimeout();
        await _server.StartServerAsync().DefaultTimeout();
        var recovered = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, chargeError.StatusCode);
        Assert.Equal("db-unavailable", charge.GetTrailers().GetValue(MeshMetadata.RejectReason));
        Assert.NotNull(charge.GetTrailers().GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Contains("same idempotency_key", chargeError.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unavailable, readError.StatusCode);
        Assert.Equal("db-unavailable", read.GetTrailers().GetValue(MeshMetadata.RejectReason));
        Assert.Equal(5, recovered.BalanceMinor);
    }

    public async ValueTask InitializeAsync() => await _server.InitializeAsync();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<PaymentsService.PaymentsServiceClient> StartHostAsync(string validateIdleAfter)
    {
        _server.EnsureAvailable();
        var host = await Scope.StartAsync(new Dictionary<string, string?>
        {
            ["Payments:ConnectionString"] = await _server.CreateDatabaseAsync(),
            ["Payments:Database:ChargePoolSize"] = "3",
            ["Payments:Database:ReadPoolSize"] = "3",
            ["Payments:Database:ValidateIdleAfter"] = validateIdleAfter,
        });
        return PaymentsHostScope.Client(host, Tenant);
    }
}
