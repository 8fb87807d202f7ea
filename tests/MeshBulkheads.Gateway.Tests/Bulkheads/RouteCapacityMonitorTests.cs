using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Bulkheads;
using Microsoft.Extensions.Hosting;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Gateway.Tests.Bulkheads;

/// <summary>
/// <see cref="RouteCapacityMonitor"/> through the real gateway, its looks driven by the test
/// (<see cref="RouteCapacityMonitor.Refresh"/>; the background loop looks once an hour here).
/// </summary>
public class RouteCapacityMonitorTests
{
    [Fact]
    public async Task Refresh_PermitsPerDestinationZeroByReloadThenScaleOut_KeepsLastGoodLimitCountsOnceAndRetriesOnTheNextChange()
    {
        // Arrange: 3 permits per destination, one destination.
        await using var harness = await ReportingRouteGateway.StartAsync(new() { ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3" });
        var lifetime = harness.Gateway.Services.GetRequiredService<IHostApplicationLifetime>();

        // Act: a reload sets 0 permits per destination and adds a replica; two looks; then a good reload.
        await harness.AddSecondDestinationAsync(new() { ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "0" });
        var whileInvalid = harness.RefreshTwiceThenReload(new() { ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "4" });

        // Assert: nothing thrown, the last good 3 permits kept, the failure counted once; the next change applies.
        AssertKeptLastGoodAndCountedOnce(whileInvalid, lastGoodPermits: 3);
        Assert.Equal(8, harness.Bulkhead.Options.PermitLimit);
        Assert.Equal(1, harness.Failures);
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
    }

    [Fact]
    public async Task Refresh_ScaledPermitsAboveAdaptiveMaxLimit_KeepsLastGoodLimitCountsOnceAndRetriesOnTheNextChange()
    {
        // Arrange: adaptive limit up to 4; 3 permits per destination fit one destination, not two.
        await using var harness = await ReportingRouteGateway.StartAsync(new()
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3",
            ["Bulkheads:gateway-reporting:AdaptiveLimit:Enabled"] = "true",
            ["Bulkheads:gateway-reporting:AdaptiveLimit:MinLimit"] = "1",
            ["Bulkheads:gateway-reporting:AdaptiveLimit:MaxLimit"] = "4",
        });

        // Act: scale out (6 permits > MaxLimit 4), two looks, then MaxLimit is raised.
        await harness.AddSecondDestinationAsync();
        var whileInvalid = harness.RefreshTwiceThenReload(new() { ["Bulkheads:gateway-reporting:AdaptiveLimit:MaxLimit"] = "10" });

        // Assert
        AssertKeptLastGoodAndCountedOnce(whileInvalid, lastGoodPermits: 3);
        Assert.Equal(6, harness.Bulkhead.Options.PermitLimit);
        Assert.Equal(10, harness.Bulkhead.Options.AdaptiveLimit.MaxLimit);
        Assert.Equal(1, harness.Failures);
    }

    [Fact]
    public async Task Refresh_InvalidResizeInTheBackgroundLoop_HostKeepsRunningAndServes()
    {
        // Arrange: the background loop looks every 20 ms.
        await using var harness = await ReportingRouteGateway.StartAsync(new()
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3",
            ["Gateway:RouteBulkheads:RefreshInterval"] = "00:00:00.020",
        });
        var (gateway, failures) = (harness.Gateway, harness.FailureCollector);
        var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();

        // Act: an invalid resize; wait until the loop has counted it or the host began to stop.
        harness.Reload(new()
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "0",
            ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = harness.Reporting2.Address.ToString(),
        });
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopping = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        await Task.WhenAny(failures.WaitForMeasurementsAsync(1, Ct), stopping.Task).DefaultTimeout();
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway host began to stop");
        var report = await new MeshBulkheads.Contracts.Reporting.V1.ReportingService.ReportingServiceClient(gateway.CreateChannel())
            .BuildReportAsync(
                new MeshBulkheads.Contracts.Reporting.V1.BuildReportRequest { AccountIds = { "acct-0001" } },
                DemoTenants.AcmeHeaders,
                cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();

        // Assert: the host did not stop, and the route serves with its last good limit.
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested);
        Assert.NotNull(report);
        Assert.Equal(3, harness.Bulkhead.Options.PermitLimit);
    }

    [Fact]
    public async Task Refresh_RouteAddedByReload_CreatesItsRouteBulkheadFromTheReloadedConfiguration()
    {
        // Arrange
        await using var harness = await ReportingRouteGateway.StartAsync(new() { ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3" });
        var provider = harness.Gateway.Services.GetRequiredService<IBulkheadProvider>();
        var before = provider.TryGet("gateway-reports", out _);

        // Act: a reload adds a route (and its settings); look once YARP has applied it.
        harness.Reload(new()
        {
            ["ReverseProxy:Routes:reports:ClusterId"] = "reporting",
            ["ReverseProxy:Routes:reports:Match:Path"] = "/reports/{**method}",
            ["Gateway:RouteBulkheads:reports:PermitsPerDestination"] = "5",
            ["Gateway:RouteBulkheads:reports:QueuePerDestination"] = "2",
        });
        var proxyState = harness.Gateway.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        await WaitUntilAsync(() => proxyState.TryGetRoute("reports", out _));
        harness.Monitor.Refresh();

        // Assert
        Assert.False(before);
        Assert.True(provider.TryGet("gateway-reports", out var bulkhead));
        Assert.Equal(5, bulkhead.Options.PermitLimit);
        Assert.Equal(2, bulkhead.Options.QueueLimit);
    }

    [Fact]
    public async Task Refresh_BulkheadOptionsLeftStaleByARacingWrite_RestoresTheConfiguredOptions()
    {
        // Arrange: a write of stale options (what a read-modify-write racing a reload leaves behind).
        await using var harness = await ReportingRouteGateway.StartAsync(new()
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3",
            ["Gateway:RouteBulkheads:reporting:QueuePerDestination"] = "7",
        });
        var stale = harness.Bulkhead.Options;
        stale.QueueLimit = 99;
        harness.Bulkhead.UpdateOptions(stale);

        // Act
        harness.Monitor.Refresh();

        // Assert: the options come from configuration, not from the bulkhead's copy.
        Assert.Equal(7, harness.Bulkhead.Options.QueueLimit);
        Assert.Equal(3, harness.Bulkhead.Options.PermitLimit);
    }

    private static void AssertKeptLastGoodAndCountedOnce(ReportingRouteGateway.WhileInvalid whileInvalid, int lastGoodPermits)
    {
        Assert.Null(whileInvalid.FirstRefresh);
        Assert.Null(whileInvalid.SecondRefresh);
        Assert.Equal(lastGoodPermits, whileInvalid.PermitLimit);
        Assert.Equal(1, whileInvalid.Failures);
    }
}
