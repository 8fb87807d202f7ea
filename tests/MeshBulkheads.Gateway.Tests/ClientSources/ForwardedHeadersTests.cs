using MeshBulkheads.Gateway.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MeshBulkheads.Gateway.Tests.ClientSources;

/// <summary>
/// <c>Gateway:ForwardedHeaders</c> and the unauthenticated limiter's per-source buckets: <c>X-Forwarded-For</c> counts only
/// from a configured proxy (the tests' client, 127.0.0.1, plays the proxy), and one source's flood of bad keys exhausts
/// only that source. Refill only by the <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string SourceA = "203.0.113.7";
    private const string SourceB = "198.51.100.20";

    [Fact]
    public async Task GetBalance_XForwardedForFromUnconfiguredPeer_IgnoredAndTheSourceIsThePeer()
    {
        // Arrange: no proxy configured (the default).
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, Headers(DemoTenants.AcmeKey, SourceA), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert: YARP forwards the client address the gateway decided on.
        Assert.Equal(["127.0.0.1"], Assert.Single(payments.Calls).Values("x-forwarded-for"));
    }

    [Fact]
    public async Task GetBalance_XForwardedForFromConfiguredProxy_SetsTheSource()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, new Dictionary<string, string?> { ["Gateway:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, Headers(DemoTenants.AcmeKey, SourceA), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal([SourceA], Assert.Single(payments.Calls).Values("x-forwarded-for"));
    }

    [Fact]
    public async Task GetBalance_SourceAFloodsBadKeys_AExhaustedWithPushbackWhileBStillUnauthenticated()
    {
        // Arrange
        var time = new FakeTimeProvider();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, time, trustLoopback: true);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var fromA = new List<RpcException>();
        for (var i = 0; i < 5; i++)
        {
            fromA.Add(await BadKeyAsync(client, SourceA));
        }

        var fromB = await BadKeyAsync(client, SourceB);
        var missingKeyFromB = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest(), new Metadata { { "x-forwarded-for", SourceB } }, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        time.Advance(TimeSpan.FromSeconds(10));
        var fromAAfterRefill = await BadKeyAsync(client, SourceA);
        var gold = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, Headers(DemoTenants.AcmeKey, SourceA), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.All(fromA.Take(3), e => Assert.Equal(StatusCode.Unauthenticated, e.StatusCode));
        Assert.All(fromA.Skip(3), e =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal(MeshRejectReasons.UnauthenticatedRateLimit, e.Trailers.GetValue(MeshMetadata.RejectReason));
            // One token per 10 s: the pushback is exactly that refill.
            Assert.Equal("10000", e.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        });
        Assert.Equal(StatusCode.Unauthenticated, fromB.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, missingKeyFromB.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, fromAAfterRefill.StatusCode);
        Assert.Equal(42, gold.BalanceMinor);
    }

    [Fact]
    public async Task GetBalance_XForwardedForFromUnconfiguredPeer_OneSourceSoTheFloodExhaustsEveryClaimedSource()
    {
        // Arrange: the negative control: without a configured proxy, a claimed address buys no bucket of its own.
        var time = new FakeTimeProvider();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, time, trustLoopback: false);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        for (var i = 0; i < 3; i++)
        {
            await BadKeyAsync(client, SourceA);
        }

        var fromB = await BadKeyAsync(client, SourceB);

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, fromB.StatusCode);
        Assert.Equal(1, gateway.Services.GetRequiredService<UnauthenticatedRateLimiter>().SourceCount);
    }

    [Fact]
    public async Task GetBalance_BadKeysFromManySources_SourcesTrackedNeverAboveTheCap()
    {
        // Arrange
        var time = new FakeTimeProvider();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, time, trustLoopback: true, maxSources: 20);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var limiter = gateway.Services.GetRequiredService<UnauthenticatedRateLimiter>();
        var highest = 0;

        // Act: 200 sources, each with a fresh bucket: every answer UNAUTHENTICATED.
        var statuses = new List<StatusCode>();
        for (var i = 0; i < 200; i++)
        {
            statuses.Add((await BadKeyAsync(client, $"10.1.{i / 250}.{i % 250}")).StatusCode);
            highest = Math.Max(highest, limiter.SourceCount);
        }

        // Assert
        Assert.All(statuses, s => Assert.Equal(StatusCode.Unauthenticated, s));
        Assert.Equal(20, highest);
    }

    private static Metadata Headers(string key, string source)
    {
        var headers = DemoTenants.Headers(key);
        headers.Add("x-forwarded-for", source);
        return headers;
    }

    private static Task<RpcException> BadKeyAsync(PaymentsService.PaymentsServiceClient client, string source) =>
        Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, Headers("bad-key", source), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

    private static Task<KestrelHost> StartAsync(Uri payments, FakeTimeProvider time, bool trustLoopback, int maxSources = 100)
    {
        var closed = GatewayHost.ClosedPort();
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:UnauthenticatedLimit:TokensPerSecond"] = "0.1",
            ["Gateway:UnauthenticatedLimit:Burst"] = "3",
            ["Gateway:UnauthenticatedSources"] = maxSources.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (trustLoopback)
        {
            overrides["Gateway:ForwardedHeaders:KnownNetworks:0"] = "127.0.0.0/8";
        }

        return KestrelHost.StartAsync(GatewayApp.Build, GatewayHost.Settings(payments, closed, closed, overrides), b =>
            b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
    }
}
