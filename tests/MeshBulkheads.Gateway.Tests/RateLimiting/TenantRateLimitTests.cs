using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>Per-tenant token buckets through the real gateway (real Kestrel, real gRPC clients).</summary>
public class TenantRateLimitTests
{
    /// <summary>Gold effectively unlimited; bronze one call per 100 s after a burst of <paramref name="bronzeBurst"/>.</summary>
    private static Dictionary<string, string?> Tiers(double bronzeRate = 0.01, int bronzeBurst = 2) => new()
    {
        ["Gateway:Tiers:gold:TokensPerSecond"] = "100000",
        ["Gateway:Tiers:gold:Burst"] = "100000",
        ["Gateway:Tiers:silver:TokensPerSecond"] = "50000",
        ["Gateway:Tiers:silver:Burst"] = "50000",
        ["Gateway:Tiers:bronze:TokensPerSecond"] = bronzeRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:Tiers:bronze:Burst"] = bronzeBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:RouteCosts:payments"] = "1",
        ["Gateway:RouteCosts:reporting"] = "1",
        ["Gateway:RouteCosts:render"] = "1",
    };

    private static Task<GetBalanceResponse> GetBalanceAsync(PaymentsService.PaymentsServiceClient client, string key) =>
        client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(key), cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();

    [Fact]
    public async Task GetBalance_BronzeFloodsWhileGoldCalls_BronzeExhaustedWithPushbackAndGoldAllSucceed()
    {
        // Arrange: bronze refills one token per 100 s, so its pushback is ≈ 100 s whatever the timing.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, Tiers());
        using var decisions = new MetricCollector<long>(
            gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.rate_limit.requests");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act: bronze and gold interleave, 20 calls each.
        var bronze = new List<Exception?>();
        for (var i = 0; i < 20; i++)
        {
            await GetBalanceAsync(client, DemoTenants.AcmeKey);
            bronze.Add(await Record.ExceptionAsync(() => GetBalanceAsync(client, DemoTenants.InitechKey)));
        }

        // Assert
        Assert.Equal(2, bronze.Count(e => e is null));
        var rejections = bronze.OfType<RpcException>().ToList();
        Assert.Equal(18, rejections.Count);
        var first = rejections[0];
        Assert.Equal(StatusCode.ResourceExhausted, first.StatusCode);
        Assert.Equal(MeshRejectReasons.TenantRateLimit, first.Trailers.GetValue(MeshMetadata.RejectReason));
        var pushbackMs = long.Parse(first.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pushbackMs, 90_000, 100_000);
        Assert.Equal("100", first.Trailers.GetValue(MeshMetadata.RetryAfter));
        Assert.Contains("tenant 'initech' is over its rate limit (bronze tier: 0.01 tokens/s, burst 2)", first.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("route 'payments' costs 1 tokens", first.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(22, payments.Calls.Count);
        Assert.Equal(20, payments.Calls.Count(c => c.Values(MeshMetadata.TenantId).SequenceEqual(["acme"])));

        var byTag = decisions.GetMeasurementSnapshot()
            .GroupBy(m => ((string)m.Tags[MeshTelemetryTags.Tenant]!, (string)m.Tags[MeshTelemetryTags.Result]!, (string)m.Tags[MeshTelemetryTags.Route]!))
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(
            new Dictionary<(string, string, string), long>
            {
                [("acme", "allowed", "payments")] = 20,
                [("initech", "allowed", "payments")] = 2,
                [("initech", "rejected", "payments")] = 18,
            },
            byTag);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 18)]
    public async Task GetBalance_BronzeOverItsBurst_NoBulkheadsSwitchAllowsEveryCallOffByDefaultRejects(bool noBulkheads, int rejected)
    {
        // Arrange: bronze's burst is 2 and it refills one token per 100 s.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var settings = Tiers();
        if (noBulkheads)
        {
            settings[MeshPitfallOptions.NoBulkheadsKey] = "true";
        }

        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, settings);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var bronze = new List<Exception?>();
        for (var i = 0; i < 20; i++)
        {
            bronze.Add(await Record.ExceptionAsync(() => GetBalanceAsync(client, DemoTenants.InitechKey)));
        }

        // Assert: the switch also lifts the route bulkhead (it is a bulkhead like any other).
        Assert.Equal(rejected, bronze.OfType<RpcException>().Count(e => e.StatusCode == StatusCode.ResourceExhausted));
        Assert.Equal(20 - rejected, bronze.Count(e => e is null));
        Assert.Equal(20 - rejected, payments.Calls.Count);
        var route = gateway.Services.GetRequiredService<IBulkheadProvider>().Get("gateway-payments");
        Assert.Equal(noBulkheads, route.PermitLimit == MeshPitfallOptions.UnboundedLimit);
    }

    [Fact]
    public async Task GetBalance_RetryPolicyOnResourceExhausted_WaitsThePushbackThenSucceeds()
    {
        // Arrange: bronze gets 1 token per 2 s, burst 1. The retry policy's own backoff is 1 ms and it
        // makes one retry, so the call only succeeds if the client waits the gateway's pushback. The
        // refill is slow on purpose: every call below must find the bucket empty however slowly it
        // arrives (at 1 token per 300 ms a busy machine could let the bucket refill in between).
        const double perSecond = 0.5;
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, Tiers(bronzeRate: perSecond, bronzeBurst: 1));
        var retrying = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel(RetryingChannel.Options(StatusCode.ResourceExhausted, maxAttempts: 2, TimeSpan.FromMilliseconds(1))));
        await GetBalanceAsync(retrying, DemoTenants.InitechKey);
        var noRetry = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var rejected = await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(noRetry, DemoTenants.InitechKey));

        // Act
        var stopwatch = Stopwatch.StartNew();
        var response = await GetBalanceAsync(retrying, DemoTenants.InitechKey);

        // Assert (coarse: the retry happened after a wait, not at the 1 ms backoff)
        Assert.Equal(StatusCode.ResourceExhausted, rejected.StatusCode);
        var pushbackMs = long.Parse(rejected.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pushbackMs, 1, (long)(1000 / perSecond));
        Assert.Equal(((pushbackMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), rejected.Trailers.GetValue(MeshMetadata.RetryAfter));
        Assert.Equal(42, response.BalanceMinor);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(50), $"retried after {stopwatch.Elapsed}");
        Assert.Equal(2, payments.Calls.Count);
    }

    [Fact]
    public async Task PlainHttpCaller_OverTheLimit_Gets429WithRetryAfter()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, Tiers(bronzeBurst: 1));
        using var http = new HttpClient();
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new StringContent("{}"),
            };
            request.Headers.Add(MeshMetadata.ApiKey, DemoTenants.InitechKey);
            return request;
        }

        using (var first = Request())
        {
            // The fake backend rejects the non-gRPC body; only the token matters here.
            (await http.SendAsync(first, Ct).DefaultTimeout()).Dispose();
        }

        // Act
        using var second = Request();
        using var response = await http.SendAsync(second, Ct).DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(100), response.Headers.RetryAfter?.Delta);
        Assert.Equal(MeshRejectReasons.TenantRateLimit, response.Headers.GetValues(MeshMetadata.RejectReason).Single());
    }

    [Fact]
    public async Task GetBalance_FloodOfBadKeys_UnauthenticatedLimitedWhileTenantsStillServed()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = Tiers();
        settings["Gateway:UnauthenticatedLimit:TokensPerSecond"] = "0.01";
        settings["Gateway:UnauthenticatedLimit:Burst"] = "3";
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var errors = new List<RpcException>();
        for (var i = 0; i < 6; i++)
        {
            var key = i % 2 == 0 ? "bad-key-" + i : new string('x', 10_000);
            errors.Add(await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(client, key)));
        }

        var missingKey = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        var gold = await GetBalanceAsync(client, DemoTenants.AcmeKey);

        // Assert
        Assert.All(errors.Take(3), e => Assert.Equal(StatusCode.Unauthenticated, e.StatusCode));
        Assert.All(errors.Skip(3).Append(missingKey), e =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal(MeshRejectReasons.UnauthenticatedRateLimit, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.NotNull(e.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        });
        Assert.Equal(42, gold.BalanceMinor);
        Assert.Single(payments.Calls);
    }
}
