using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>Tier changes reach busy tenants; an invalid reload is logged, counted and ignored.</summary>
public class PolicyReloadTests
{
    [Fact]
    public async Task Reload_BronzeRateRaisedWhileInitechIsBusy_NextCallPassesAndGenerationGrows()
    {
        // Arrange: initech (bronze) has spent its only token and keeps calling.
        await using var mesh = await SlowBronzeGateway.StartAsync();
        var (payments, gateway, callAsync) = (mesh.Payments, mesh.Gateway, mesh.InitechGetBalance);
        var generation = mesh.Generation;
        await callAsync();
        var before = await Assert.ThrowsAsync<RpcException>(callAsync);

        // Act
        ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "1000",
            ["Gateway:Tiers:bronze:Burst"] = "1000",
        });
        for (var i = 0; i < 10; i++)
        {
            await callAsync();
        }

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, before.StatusCode);
        Assert.Equal(11, payments.Calls.Count);
        generation.RecordObservableInstruments();
        Assert.Equal(2, generation.LastMeasurement?.Value);
    }

    [Fact]
    public async Task Reload_ValueTheBinderCannotConvert_KeepsLastGoodPolicyLogsAndCountsOnce()
    {
        // Arrange
        await using var mesh = await SlowBronzeGateway.StartAsync(builder => builder.Services.AddFakeLogging());
        var (gateway, failures, generation) = (mesh.Gateway, mesh.ReloadFailures, mesh.Generation);
        var bad = new Dictionary<string, string?> { ["Gateway:UnauthenticatedLimit:Burst"] = "twenty" };

        // Act: not a validation failure but a binder one (not an integer); the same edit signalled twice.
        var first = Record.Exception(() => ConfigurationEdit.Apply(gateway.Services, bad));
        var second = Record.Exception(() => ConfigurationEdit.Apply(gateway.Services, bad));

        // Assert
        Assert.Null(first);
        Assert.Null(second);
        Assert.Equal(1, failures.GetMeasurementSnapshot().Sum(m => m.Value));
        generation.RecordObservableInstruments();
        Assert.Equal(1, generation.LastMeasurement?.Value);
        var log = Assert.Single(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "ConfigReloadRejected");
        Assert.Contains("Gateway:UnauthenticatedLimit:Burst", log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_Invalid_KeepsLastGoodPolicyLogsAndCounts()
    {
        // Arrange
        await using var mesh = await SlowBronzeGateway.StartAsync(builder => builder.Services.AddFakeLogging());
        var (gateway, failures, generation) = (mesh.Gateway, mesh.ReloadFailures, mesh.Generation);
        var callAsync = mesh.InitechGetBalance;
        await callAsync();

        // Act: bronze faster than gold, and an unknown tier.
        var reload = Record.Exception(() => ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "200000",
            ["Gateway:Tiers:bronze:Burst"] = "1000",
            ["Gateway:Tiers:platinum:TokensPerSecond"] = "5",
            ["Gateway:Tiers:platinum:Burst"] = "5",
        }));
        var after = await Assert.ThrowsAsync<RpcException>(callAsync);

        // Assert: still the old bronze limit (one token per 100 s).
        Assert.Null(reload);
        Assert.Equal(StatusCode.ResourceExhausted, after.StatusCode);
        Assert.Contains("bronze tier: 0.01 tokens/s", after.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(failures.GetMeasurementSnapshot()).Value);
        generation.RecordObservableInstruments();
        Assert.Equal(1, generation.LastMeasurement?.Value);
        var log = Assert.Single(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "ConfigReloadRejected");
        Assert.Contains("Gateway:Tiers:platinum is not a known tier", log.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tiers:silver:TokensPerSecond (50000) must be greater than Gateway:Tiers:bronze:TokensPerSecond (200000)", log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBalance_OkAndRejected_DurationRecordedByTenantRouteAndStatus()
    {
        // Arrange
        await using var mesh = await SlowBronzeGateway.StartAsync();
        var callAsync = mesh.InitechGetBalance;
        using var duration = mesh.Collect<double>("meshbulkheads.gateway.request.duration");
        var client = new PaymentsService.PaymentsServiceClient(mesh.Gateway.CreateChannel());

        // Act
        await callAsync();
        await Assert.ThrowsAsync<RpcException>(callAsync);
        await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert (the histogram is recorded after the response completes: wait for all three)
        await duration.WaitForMeasurementsAsync(3, Ct).DefaultTimeout();
        var tags = duration.GetMeasurementSnapshot()
            .Select(m => ((string)m.Tags[MeshTelemetryTags.Tenant]!, (string)m.Tags[MeshTelemetryTags.Route]!, (string)m.Tags[MeshTelemetryTags.GrpcStatusCode]!))
            .Order()
            .ToList();
        Assert.Equal(
            [("initech", "payments", "OK"), ("initech", "payments", "RESOURCE_EXHAUSTED"), ("unauthenticated", "payments", "UNAUTHENTICATED")],
            tags);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
    }

    /// <summary>
    /// A gateway whose bronze tier has one token a 100 s (gold and silver practically unlimited, every route costs 1) in
    /// front of a fake payments; reporting and render unreachable.
    /// </summary>
    private sealed class SlowBronzeGateway : IAsyncDisposable
    {
        private SlowBronzeGateway(FakeBackend payments, KestrelHost gateway)
        {
            Payments = payments;
            Gateway = gateway;
            Generation = Collect<long>("meshbulkheads.gateway.config.generation");
            ReloadFailures = Collect<long>("meshbulkheads.gateway.config.reload_failures");
            var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
            var headers = DemoTenants.Headers(DemoTenants.InitechKey);
            InitechGetBalance = () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        }

        public FakeBackend Payments { get; }

        public KestrelHost Gateway { get; }

        /// <summary>The gateway's configuration generation gauge.</summary>
        public MetricCollector<long> Generation { get; }

        /// <summary>The gateway's refused configuration reloads, counted since the start.</summary>
        public MetricCollector<long> ReloadFailures { get; }

        /// <summary>One GetBalance through the gateway as initech (bronze).</summary>
        public Func<Task> InitechGetBalance { get; }

        public static async Task<SlowBronzeGateway> StartAsync(Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
        {
            var payments = await FakeBackend.StartAsync<FakePaymentsService>();
            try
            {
                var closed = GatewayHost.ClosedPort();
                var gateway = await KestrelHost.StartAsync(GatewayApp.Build, GatewayHost.Settings(payments.Address, closed, closed, SlowBronze()), configure);
                return new SlowBronzeGateway(payments, gateway);
            }
            catch
            {
                await payments.DisposeAsync();
                throw;
            }
        }

        /// <summary>Collects the gateway's instrument <paramref name="name"/>.</summary>
        public MetricCollector<T> Collect<T>(string name)
            where T : struct => new(Gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, name);

        public async ValueTask DisposeAsync()
        {
            Generation.Dispose();
            ReloadFailures.Dispose();
            await Gateway.DisposeAsync();
            await Payments.DisposeAsync();
        }

        private static Dictionary<string, string?> SlowBronze() => new()
        {
            ["Gateway:Tiers:gold:TokensPerSecond"] = "100000",
            ["Gateway:Tiers:gold:Burst"] = "100000",
            ["Gateway:Tiers:silver:TokensPerSecond"] = "50000",
            ["Gateway:Tiers:silver:Burst"] = "50000",
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "0.01",
            ["Gateway:Tiers:bronze:Burst"] = "1",
            ["Gateway:RouteCosts:payments"] = "1",
            ["Gateway:RouteCosts:reporting"] = "1",
            ["Gateway:RouteCosts:render"] = "1",
        };
    }
}
