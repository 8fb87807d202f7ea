using System.Diagnostics.Metrics;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>Tier changes reach busy tenants; an invalid reload is logged, counted and ignored.</summary>
public class PolicyReloadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

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

    [Fact]
    public async Task Reload_BronzeRateRaisedWhileInitechIsBusy_NextCallPassesAndGenerationGrows()
    {
        // Arrange: initech (bronze) has spent its only token and keeps calling.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, SlowBronze());
        using var generation = new MetricCollector<long>(
            gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.config.generation");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var headers = new Metadata { { MeshMetadata.ApiKey, GatewayHost.InitechKey } };
        Task CallAsync() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        await CallAsync();
        var before = await Assert.ThrowsAsync<RpcException>(CallAsync);

        // Act
        ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "1000",
            ["Gateway:Tiers:bronze:Burst"] = "1000",
        });
        for (var i = 0; i < 10; i++)
        {
            await CallAsync();
        }

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, before.StatusCode);
        Assert.Equal(11, payments.Calls.Count);
        generation.RecordObservableInstruments();
        Assert.Equal(2, generation.LastMeasurement?.Value);
    }

    [Fact]
    public async Task Reload_Invalid_KeepsLastGoodPolicyLogsAndCounts()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await KestrelHost.StartAsync(
            GatewayApp.Build,
            GatewayHost.Settings(payments.Address, closed, closed, SlowBronze()),
            builder => builder.Services.AddFakeLogging());
        var meterFactory = gateway.Services.GetRequiredService<IMeterFactory>();
        using var failures = new MetricCollector<long>(meterFactory, GatewayMetrics.MeterName, "meshbulkheads.gateway.config.reload_failures");
        using var generation = new MetricCollector<long>(meterFactory, GatewayMetrics.MeterName, "meshbulkheads.gateway.config.generation");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var headers = new Metadata { { MeshMetadata.ApiKey, GatewayHost.InitechKey } };
        Task CallAsync() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        await CallAsync();

        // Act: bronze faster than gold, and an unknown tier.
        var reload = Record.Exception(() => ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "200000",
            ["Gateway:Tiers:bronze:Burst"] = "1000",
            ["Gateway:Tiers:platinum:TokensPerSecond"] = "5",
            ["Gateway:Tiers:platinum:Burst"] = "5",
        }));
        var after = await Assert.ThrowsAsync<RpcException>(CallAsync);

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
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, SlowBronze());
        using var duration = new MetricCollector<double>(
            gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.request.duration");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var headers = new Metadata { { MeshMetadata.ApiKey, GatewayHost.InitechKey } };
        Task CallAsync() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Act
        await CallAsync();
        await Assert.ThrowsAsync<RpcException>(CallAsync);
        await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert (the histogram is recorded after the response completes: wait for all three)
        await duration.WaitForMeasurementsAsync(3, Ct).DefaultTimeout();
        var tags = duration.GetMeasurementSnapshot()
            .Select(m => ((string)m.Tags[GatewayMetrics.TenantTag]!, (string)m.Tags[GatewayMetrics.RouteTag]!, (string)m.Tags[GatewayMetrics.GrpcStatusTag]!))
            .Order()
            .ToList();
        Assert.Equal(
            [("initech", "payments", "OK"), ("initech", "payments", "RESOURCE_EXHAUSTED"), ("unauthenticated", "payments", "UNAUTHENTICATED")],
            tags);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
    }
}
