using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Contracts.Reporting.V1;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Gateway.Tests.Bulkheads;

/// <summary>Per-route bulkheads (the shared library's <see cref="Bulkhead"/>) through the real gateway.</summary>
public class RouteBulkheadTests
{
    /// <summary>
    /// Reporting calls wait on the returned gate (set it to let them answer); <c>Arrived</c> completes when
    /// <paramref name="count"/> have arrived.
    /// </summary>
    private static (TaskCompletionSource Gate, Task Arrived) HoldReporting(FakeBackend reporting, int count)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reporting.OnCall = async (_, _) =>
        {
            if (Interlocked.Increment(ref arrived) == count)
            {
                allArrived.TrySetResult();
            }

            await gate.Task;
        };
        return (gate, allArrived.Task);
    }

    [Fact]
    public async Task ReportingFlood_PaymentsCallsAllSucceedAndExcessReportsGetRouteOverloaded()
    {
        // Arrange: reporting may hold 2 calls and queue none.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var reporting = await FakeBackend.StartAsync<FakeReportingService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments.Address, reporting.Address, closed, new Dictionary<string, string?>
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "2",
            ["Gateway:RouteBulkheads:reporting:QueuePerDestination"] = "0",
            ["Bulkheads:gateway-reporting:TenantMaxShare"] = "1",
        });
        var (gate, twoInFlight) = HoldReporting(reporting, 2);
        var channel = gateway.CreateChannel();
        var reports = new ReportingService.ReportingServiceClient(channel);
        var paymentsClient = new PaymentsService.PaymentsServiceClient(channel);
        var held = Enumerable.Range(0, 2)
            .Select(_ => reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync)
            .ToList();
        await twoInFlight.DefaultTimeout();

        // Act
        var flood = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Record.ExceptionAsync(() =>
            reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout()).AsTask()));
        var balances = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            paymentsClient.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout()));
        gate.SetResult();
        await Task.WhenAll(held).DefaultTimeout();

        // Assert
        Assert.All(balances, b => Assert.Equal(42, b.BalanceMinor));
        Assert.All(flood, e =>
        {
            var error = Assert.IsType<RpcException>(e);
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Equal(MeshRejectReasons.RouteOverloaded, error.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.NotNull(error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
            Assert.Contains("route 'reporting'", error.Status.Detail, StringComparison.Ordinal);
        });
        Assert.Equal(2, reporting.Calls.Count);
    }

    [Fact]
    public async Task OneRoute_TenantFloods_CapsItAtItsShareAndAnotherTenantStillGetsIn()
    {
        // Arrange: 4 permits, no queue, at most half per tenant.
        await using var reporting = await FakeBackend.StartAsync<FakeReportingService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, reporting.Address, closed, new Dictionary<string, string?>
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "4",
            ["Gateway:RouteBulkheads:reporting:QueuePerDestination"] = "0",
            ["Bulkheads:gateway-reporting:TenantMaxShare"] = "0.5",
        });
        var (gate, fourInFlight) = HoldReporting(reporting, 4);
        var reports = new ReportingService.ReportingServiceClient(gateway.CreateChannel());
        Task<BuildReportResponse> Report(string key) =>
            reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, DemoTenants.Headers(key), cancellationToken: Ct).ResponseAsync;

        // Act: acme tries 4 at once: two are held, two come back at once; then globex still gets in.
        var acme = Enumerable.Range(0, 4).Select(_ => Record.ExceptionAsync(() => Report(DemoTenants.AcmeKey)).AsTask()).ToList();
        // Count completions, not wake-ups: both rejections can complete before the second wait, and
        // waiting then on "any not completed" would wait on the two held calls forever.
        while (acme.Count(t => t.IsCompleted) < 2)
        {
            await Task.WhenAny(acme.Where(t => !t.IsCompleted)).DefaultTimeout();
        }

        var globex = Enumerable.Range(0, 2).Select(_ => Report(DemoTenants.GlobexKey)).ToList();
        await fourInFlight.DefaultTimeout();
        var completedBeforeRelease = acme.Count(t => t.IsCompleted);
        gate.SetResult();
        var acmeResults = await Task.WhenAll(acme).DefaultTimeout();
        await Task.WhenAll(globex).DefaultTimeout();

        // Assert
        Assert.Equal(2, completedBeforeRelease);
        Assert.Equal(2, acmeResults.Count(e => e is null));
        Assert.All(acmeResults.OfType<RpcException>(), e =>
        {
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.Equal(MeshRejectReasons.RouteOverloaded, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.Contains("maximum share", e.Status.Detail, StringComparison.Ordinal);
        });
        Assert.Equal(2, reporting.Calls.Count(c => c.Values(MeshMetadata.TenantId).SequenceEqual(["globex"])));
        Assert.Equal(2, reporting.Calls.Count(c => c.Values(MeshMetadata.TenantId).SequenceEqual(["acme"])));
    }

    [Fact]
    public async Task RouteAddedByConfigureCallback_HeldCallThenAnother_GetsARouteBulkheadThatSheds()
    {
        // Arrange: BuildReport moves to a route `reports` that only the test's configure callback adds
        // (after GatewayApp registered its features); 1 permit, no queue.
        await using var reporting = await FakeBackend.StartAsync<FakeReportingService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await KestrelHost.StartAsync(
            GatewayApp.Build,
            GatewayHost.Settings(closed, reporting.Address, closed),
            builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ReverseProxy:Routes:reporting:Match:Path"] = "/unused.reporting/{**method}",
                ["ReverseProxy:Routes:reports:ClusterId"] = "reporting",
                ["ReverseProxy:Routes:reports:Match:Path"] = "/meshbulkheads.reporting.v1.ReportingService/{**method}",
                ["Gateway:RouteBulkheads:reports:PermitsPerDestination"] = "1",
                ["Gateway:RouteBulkheads:reports:QueuePerDestination"] = "0",
                ["Bulkheads:gateway-reports:TenantMaxShare"] = "1",
            }));
        var (gate, oneInFlight) = HoldReporting(reporting, 1);
        var reports = new ReportingService.ReportingServiceClient(gateway.CreateChannel());
        Task<BuildReportResponse> Report() =>
            reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync;
        var held = Report();
        await oneInFlight.DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => Report().DefaultTimeout());
        gate.SetResult();
        await held.DefaultTimeout();

        // Assert
        Assert.True(gateway.Services.GetRequiredService<IBulkheadProvider>().TryGet("gateway-reports", out var bulkhead));
        Assert.Equal(1, bulkhead.PermitLimit);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(MeshRejectReasons.RouteOverloaded, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("route 'reports'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Single(reporting.Calls);
    }

    [Theory]
    [InlineData("PermitLimit", "Gateway:RouteBulkheads:reporting:PermitsPerDestination")]
    [InlineData("QueueLimit", "Gateway:RouteBulkheads:reporting:QueuePerDestination")]
    public async Task Start_DerivedRouteLimitSetDirectly_FailsNamingTheSourceKey(string setting, string sourceKey)
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        var overrides = new Dictionary<string, string?> { [$"Bulkheads:gateway-reporting:{setting}"] = "10" };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, overrides));

        // Assert
        Assert.Contains($"Bulkheads:gateway-reporting:{setting} is derived", error.Message, StringComparison.Ordinal);
        Assert.Contains($"set {sourceKey} instead", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoutePermits_DestinationAddedThenUnhealthy_FollowTheAvailableDestinations()
    {
        // Arrange: one reporting destination, 3 permits per destination.
        await using var harness = await ReportingRouteGateway.StartAsync(new()
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3",
            ["Gateway:RouteBulkheads:RefreshInterval"] = "00:00:00.050",
            ["ReverseProxy:Clusters:reporting:HealthCheck:Active:Interval"] = "00:00:00.200",
            ["ReverseProxy:Clusters:reporting:Metadata:ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
        });
        var bulkhead = harness.Bulkhead;
        var initial = bulkhead.PermitLimit;

        // Act: scale out to a second replica, then that replica dies and the probes notice (polling what the gateway
        // derived from YARP's cluster state).
        harness.Reload(new() { ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = harness.Reporting2.Address.ToString() });
        await WaitUntilAsync(() => bulkhead.PermitLimit == 6, TimeSpan.FromMilliseconds(20));
        harness.Reload(new() { ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = GatewayHost.ClosedPort().ToString() });
        await WaitUntilAsync(() => bulkhead.PermitLimit == 3, TimeSpan.FromMilliseconds(20));

        // Assert
        Assert.Equal(3, initial);
        Assert.Equal(3, bulkhead.PermitLimit);
    }
}
