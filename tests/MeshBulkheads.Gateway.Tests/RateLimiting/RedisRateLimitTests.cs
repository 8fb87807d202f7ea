using System.Diagnostics.Metrics;
using System.Globalization;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Testing.Redis;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>
/// <c>Gateway:RateLimiting:Store = Redis</c> through real gateways (real Kestrel, real gRPC clients)
/// and a real redis-server: replicas share one limit per tenant, and a Redis outage falls back to
/// the in-process buckets without failing calls.
/// </summary>
public class RedisRateLimitTests(RedisFixture redis)
{
    /// <summary>Gold effectively unlimited; bronze as given; every route costs one token.</summary>
    private Dictionary<string, string?> Settings(string store, double bronzeRate, int bronzeBurst, string? configuration = null) => new()
    {
        ["Gateway:Tiers:gold:TokensPerSecond"] = "100000",
        ["Gateway:Tiers:gold:Burst"] = "100000",
        ["Gateway:Tiers:silver:TokensPerSecond"] = "50000",
        ["Gateway:Tiers:silver:Burst"] = "50000",
        ["Gateway:Tiers:bronze:TokensPerSecond"] = bronzeRate.ToString(CultureInfo.InvariantCulture),
        ["Gateway:Tiers:bronze:Burst"] = bronzeBurst.ToString(CultureInfo.InvariantCulture),
        ["Gateway:RouteCosts:payments"] = "1",
        ["Gateway:RouteCosts:reporting"] = "1",
        ["Gateway:RouteCosts:render"] = "1",
        ["Gateway:RateLimiting:Store"] = store,
        ["Gateway:RateLimiting:Redis:Configuration"] = configuration ?? redis.Configuration,
        // Each test its own buckets on the shared server.
        ["Gateway:RateLimiting:Redis:KeyPrefix"] = $"test:{Guid.NewGuid():N}:",
    };

    private static Task<GetBalanceResponse> GetBalanceAsync(KestrelHost gateway, string key) =>
        new PaymentsService.PaymentsServiceClient(gateway.CreateChannel())
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(key), cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();

    [Theory]
    [InlineData("Redis", 5)]
    [InlineData("InProcess", 10)]
    public async Task GetBalance_TwoGatewaysBronzeBurstFive_SuccessesMatchStore(string store, int expectedSuccesses)
    {
        // Arrange: bronze refills one token per 100 s, so only the burst passes; both gateways see the same settings.
        redis.EnsureAvailable();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = Settings(store, bronzeRate: 0.01, bronzeBurst: 5);
        await using var first = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await using var second = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);

        // Act: ten calls on each gateway, alternating.
        var outcomes = new List<Exception?>();
        for (var i = 0; i < 10; i++)
        {
            outcomes.Add(await Record.ExceptionAsync(() => GetBalanceAsync(first, DemoTenants.InitechKey)));
            outcomes.Add(await Record.ExceptionAsync(() => GetBalanceAsync(second, DemoTenants.InitechKey)));
        }

        // Assert: Redis → one global burst (5); in-process → one burst per replica (2 × 5).
        Assert.Equal(expectedSuccesses, outcomes.Count(e => e is null));
        Assert.All(outcomes.OfType<RpcException>(), e =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal(MeshRejectReasons.TenantRateLimit, e.Trailers.GetValue(MeshMetadata.RejectReason));
        });
        Assert.Equal(20 - expectedSuccesses, outcomes.Count(e => e is not null));
        Assert.Equal(expectedSuccesses, payments.Calls.Count);
    }

    [Fact]
    public async Task GetBalance_RedisBucketEmpty_PushbackIsTimeUntilRefillOnEitherGateway()
    {
        // Arrange: burst 1 at 0.01 tokens/s → the next token is ≈ 100 s away.
        redis.EnsureAvailable();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = Settings("Redis", bronzeRate: 0.01, bronzeBurst: 1);
        await using var first = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await using var second = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await GetBalanceAsync(first, DemoTenants.InitechKey);

        // Act
        var rejected = await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(second, DemoTenants.InitechKey));

        // Assert: the same rejection shape as the in-process store, pushback from the shared bucket.
        Assert.Equal(StatusCode.ResourceExhausted, rejected.StatusCode);
        Assert.Equal(MeshRejectReasons.TenantRateLimit, rejected.Trailers.GetValue(MeshMetadata.RejectReason));
        var pushbackMs = long.Parse(rejected.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, CultureInfo.InvariantCulture);
        Assert.InRange(pushbackMs, 95_000, 100_000);
        Assert.Equal("100", rejected.Trailers.GetValue(MeshMetadata.RetryAfter));
        Assert.Contains("tenant 'initech' is over its rate limit (bronze tier: 0.01 tokens/s, burst 1)", rejected.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBalance_RetriedAfterRedisPushback_SucceedsOnTheOtherGateway()
    {
        // Arrange: burst 1 at 0.5 tokens/s → the pushback is at most 2 s. A slow rate on purpose: the
        // second gateway's first call must find the bucket still empty however long it takes to arrive
        // (at 10 tokens/s a call 100 ms late found it refilled on a busy machine).
        const double rate = 0.5;
        redis.EnsureAvailable();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = Settings("Redis", bronzeRate: rate, bronzeBurst: 1);
        await using var first = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await using var second = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await GetBalanceAsync(first, DemoTenants.InitechKey);
        var rejected = await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(second, DemoTenants.InitechKey));
        var pushbackMs = long.Parse(rejected.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, CultureInfo.InvariantCulture);

        // Act: wait exactly the pushback (real time: the bucket refills by the Redis server's clock).
        await Task.Delay(TimeSpan.FromMilliseconds(pushbackMs), Ct);
        var retried = await Record.ExceptionAsync(() => GetBalanceAsync(second, DemoTenants.InitechKey));

        // Assert
        Assert.InRange(pushbackMs, 1, (long)(1000 / rate));
        Assert.Null(retried);
        Assert.Equal(2, payments.Calls.Count);
    }

    [Fact]
    public async Task GetBalance_RedisUnreachable_FallsBackToInProcessBucketsAndCountsStoreErrors()
    {
        // Arrange: nothing listens at the configured Redis address.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = Settings("Redis", bronzeRate: 0.01, bronzeBurst: 2, configuration: $"{closed.Host}:{closed.Port}");
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        using var storeErrors = new MetricCollector<long>(
            gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.rate_limit.store_errors");

        // Act: every call is bounded by DefaultTimeout; the gateway must neither hang nor fail them.
        var outcomes = new List<Exception?>();
        for (var i = 0; i < 4; i++)
        {
            outcomes.Add(await Record.ExceptionAsync(() => GetBalanceAsync(gateway, DemoTenants.InitechKey)));
        }

        // Assert: the in-process bronze bucket decided (burst 2), every decision counted as a store error.
        Assert.Null(outcomes[0]);
        Assert.Null(outcomes[1]);
        Assert.All(outcomes.Skip(2), e => Assert.Equal(StatusCode.ResourceExhausted, Assert.IsType<RpcException>(e).StatusCode));
        var errors = storeErrors.GetMeasurementSnapshot();
        Assert.Equal(4, errors.Sum(m => m.Value));
        Assert.All(errors, m =>
        {
            Assert.Equal("redis", m.Tags[MeshTelemetryTags.RateLimitStore]);
            Assert.Contains((string)m.Tags[MeshTelemetryTags.ErrorType]!, new[] { "connection", "timeout" });
        });
    }

    [Fact]
    public async Task GetBalance_RedisStopsAnsweringWithConnectionUp_AdmittedWithoutChargingTheFallbackAndCounted()
    {
        // Arrange: Redis behind a proxy that can hold requests; burst 1 at 0.01 tokens/s in Redis and in
        // the fallback alike. The shared bucket is spent first, so Redis itself rejects.
        redis.EnsureAvailable();
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var proxy = new HoldingTcpProxy(redis.Port);
        var closed = GatewayHost.ClosedPort();
        var settings = Settings("Redis", bronzeRate: 0.01, bronzeBurst: 1, configuration: $"127.0.0.1:{proxy.Port}");
        // 1 s: long enough to connect on a loaded machine (the same setting bounds the first connect).
        settings["Gateway:RateLimiting:Redis:Timeout"] = "00:00:01";
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        using var storeErrors = new MetricCollector<long>(
            gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.rate_limit.store_errors");
        await gateway.Services.GetRequiredService<MeshBulkheads.Gateway.RateLimiting.Redis.RedisTenantRateLimiter>().WaitForConnectionAsync(Ct).DefaultTimeout();
        await GetBalanceAsync(gateway, DemoTenants.InitechKey);
        var rejectedByRedis = await Record.ExceptionAsync(() => GetBalanceAsync(gateway, DemoTenants.InitechKey));
        Assert.Empty(storeErrors.GetMeasurementSnapshot());

        // Act: the script is sent and never answered (it may have run: the outcome is unknown).
        proxy.Hold();
        var duringTimeouts = new List<Exception?>();
        for (var i = 0; i < 3; i++)
        {
            duringTimeouts.Add(await Record.ExceptionAsync(() => GetBalanceAsync(gateway, DemoTenants.InitechKey)));
        }

        // Assert: each timed-out decision admitted and counted as a timeout; the fallback bucket (burst 1)
        // was not charged, or the second and third would have been rejected by it.
        Assert.Equal(StatusCode.ResourceExhausted, Assert.IsType<RpcException>(rejectedByRedis).StatusCode);
        Assert.All(duringTimeouts, Assert.Null);
        Assert.Equal(4, payments.Calls.Count);
        var errors = storeErrors.GetMeasurementSnapshot();
        Assert.Equal(3, errors.Sum(m => m.Value));
        Assert.All(errors, m => Assert.Equal("timeout", m.Tags[MeshTelemetryTags.ErrorType]));
    }

    [Fact]
    public async Task TryAcquire_RedisStoreForTwoAndAHalfSeconds_AdmitsTheRateWithinTenPercent()
    {
        // Arrange: the one real-time check (the script's own logic is tested with written state):
        // bronze 40 tokens/s, asked every 2 ms through the gateway's Redis limiter. Burst 40 (1 s), drained
        // first: it never fills between two asks, so no refill is lost to the cap even on a loaded machine.
        redis.EnsureAvailable();
        const double rate = 40;
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed, Settings("Redis", bronzeRate: rate, bronzeBurst: 40));
        var limiter = gateway.Services.GetRequiredService<MeshBulkheads.Gateway.RateLimiting.ITenantRateLimiter>();
        var tenant = new MeshBulkheads.Gateway.Tenancy.GatewayTenant("initech", "bronze");
        var time = TimeProvider.System;
        while ((await limiter.TryAcquireAsync(tenant, "payments", Ct)).Allowed)
        {
        }

        var start = time.GetTimestamp();
        var admitted = 0;

        // Act
        while (time.GetElapsedTime(start) < TimeSpan.FromSeconds(2.5))
        {
            admitted += (await limiter.TryAcquireAsync(tenant, "payments", Ct)).Allowed ? 1 : 0;
            await Task.Delay(2, Ct);
        }

        var elapsed = time.GetElapsedTime(start);

        // Assert: the rate × the elapsed time, ±10 %.
        var expected = rate * elapsed.TotalSeconds;
        Assert.InRange(admitted, expected * 0.9, expected * 1.1);
    }

    [Fact]
    public async Task Start_RedisStoreWithoutConfiguration_FailsNamingTheSetting()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        var settings = Settings("Redis", bronzeRate: 1, bronzeBurst: 1, configuration: string.Empty);

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, settings));

        // Assert
        Assert.Contains("Gateway:RateLimiting:Redis:Configuration is required when Gateway:RateLimiting:Store is Redis", error.Message, StringComparison.Ordinal);
    }
}
