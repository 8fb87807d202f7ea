using System.Net;
using MeshBulkheads.ServiceDefaults.Health;
using Microsoft.AspNetCore.Builder;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>
/// The gateway reports ready only after YARP's first round of active health probes (InitialHealthProbeWarmup): before
/// it, every destination is Unknown and <c>HealthyAndUnknown</c> would route a new gateway's first calls to one that
/// is down. A backend that holds the probe keeps the round open for as long as the test wants, so nothing is timed.
/// </summary>
public sealed class InitialHealthProbeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_FirstProbeRoundStillRunning_NotReadyUntilItEndsThenHealthy()
    {
        // Arrange: payments' /readyz answers only when released; its probe timeout outlasts the test.
        var probed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var payments = await H2cHost.StartAsync(configureServices: null, app => app.MapGet("/readyz", async () =>
        {
            probed.TrySetResult();
            await release.Task;
            return "ready";
        }));
        var overrides = new Dictionary<string, string?> { ["ReverseProxy:Clusters:payments:HealthCheck:Active:Timeout"] = "00:05:00" };

        // Act
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, overrides);
        await probed.Task.DefaultTimeout();
        using var admin = gateway.CreateAdminClient();
        using var during = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), Ct).DefaultTimeout();
        var state = gateway.Services.GetRequiredService<ReadinessState>();
        var reasonDuring = state.Reason;
        release.SetResult();
        await gateway.WaitUntilReadyAsync();
        using var after = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), Ct).DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.Equal("starting", reasonDuring);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(DestinationHealth.Healthy, Assert.Single(Destinations(gateway, "payments")).Health.Active);
    }

    [Fact]
    public async Task Start_DestinationDownAndThresholdOne_UnhealthyByTheTimeTheGatewayIsReady()
    {
        // Arrange: payments' second destination is a closed port; one failed probe is enough (the kubectl shim's
        // setting, whose gateways list every possible process of a backend).
        await using var payments = await H2cHost.StartAsync(configureServices: null, app => app.MapGet("/readyz", () => "ready"));
        var overrides = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:Destinations:d2:Address"] = GatewayHost.ClosedPort().ToString(),
            ["ReverseProxy:Clusters:payments:Metadata:ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
        };

        // Act
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, overrides);
        await gateway.WaitUntilReadyAsync();

        // Assert: at readiness, the live destination is Healthy and the closed one Unhealthy: no call is routed to it.
        var destinations = Destinations(gateway, "payments").ToDictionary(d => d.DestinationId, d => d.Health.Active);
        Assert.Equal(DestinationHealth.Healthy, destinations["d1"]);
        Assert.Equal(DestinationHealth.Unhealthy, destinations["d2"]);
    }

    private static IReadOnlyList<DestinationState> Destinations(KestrelHost gateway, string cluster) =>
        gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(cluster, out var state)
            ? [.. state.Destinations.Values]
            : throw new InvalidOperationException($"no {cluster} cluster");
}
