using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Gateway.Telemetry;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>Proxy failures come back as Trailers-Only gRPC statuses with a reason, never a bare 502/504.</summary>
public class BackendFailureTests
{
    [Fact]
    public async Task GetBalance_BackendPortClosed_UnavailableWithBackendUnavailableReason()
    {
        // Arrange: no active probes, so the (closed) destination is still "unknown" and gets tried.
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false",
        });
        using var rejected = new MetricCollector<long>(
            gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.rejected_requests");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(MeshRejectReasons.BackendUnavailable, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("route 'payments'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("ConnectionError", error.Status.Detail, StringComparison.Ordinal);
        var measurement = Assert.Single(rejected.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("payments", measurement.Tags[MeshTelemetryTags.Route]);
        Assert.Equal(MeshRejectReasons.ToMetricTag(MeshRejectReasons.BackendUnavailable), measurement.Tags[MeshTelemetryTags.Reason]);
        Assert.Equal("backend_unavailable", measurement.Tags[MeshTelemetryTags.Reason]);
    }

    [Fact]
    public async Task GetBalance_ActiveProbesMarkedDestinationUnhealthy_UnavailableWithNoHealthyBackendReason()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:HealthCheck:Active:Interval"] = "00:00:00.200",
            ["ReverseProxy:Clusters:payments:Metadata:ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
        });
        var state = gateway.Services.GetRequiredService<IProxyStateLookup>();
        // YARP's health state has no change notification: poll it.
        await WaitUntilAsync(() => state.TryGetCluster("payments", out var cluster)
            && cluster.Destinations.Values.All(d => d.Health.Active == DestinationHealth.Unhealthy));
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(MeshRejectReasons.NoHealthyBackend, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("no healthy backend for route 'payments'", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_BackendSilentPastActivityTimeout_DeadlineExceededWithBackendTimeoutReason()
    {
        // Arrange: the backend never answers on its own; YARP's activity timeout (shortened here) fires.
        await using var render = await FakeBackend.StartAsync<FakeRenderService>();
        var backendCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        render.OnCall = async (_, context) =>
        {
            await using var registration = context.CancellationToken.Register(() => backendCancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        };
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, render.Address, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:render:HttpRequest:ActivityTimeout"] = "00:00:00.300",
        });
        var client = new RenderService.RenderServiceClient(gateway.CreateChannel());

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(
            new RenderRequest { Width = 1, Height = 1, Iterations = 1 }, DemoTenants.AcmeHeaders, deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshRejectReasons.BackendTimeout, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("route 'render'", error.Status.Detail, StringComparison.Ordinal);
        await backendCancelled.Task.DefaultTimeout();
    }
}
