using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.Gateway.Tests.Bulkheads;

/// <summary>Per-route bulkheads (the shared library's <see cref="Bulkhead"/>) through the real gateway.</summary>
public class RouteBulkheadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Metadata Key(string key) => new() { { MeshMetadata.ApiKey, key } };

    /// <summary>Reporting calls wait on <paramref name="gate"/>; the returned task completes when <paramref name="count"/> have arrived.</summary>
    private static Task HoldReporting(FakeBackend reporting, TaskCompletionSource gate, int count)
    {
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
        return allArrived.Task;
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
            ["Bulkheads:reporting:QueueLimit"] = "0",
            ["Bulkheads:reporting:TenantMaxShare"] = "1",
        });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var twoInFlight = HoldReporting(reporting, gate, 2);
        var channel = gateway.CreateChannel();
        var reports = new ReportingService.ReportingServiceClient(channel);
        var paymentsClient = new PaymentsService.PaymentsServiceClient(channel);
        var held = Enumerable.Range(0, 2)
            .Select(_ => reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, Key(GatewayHost.AcmeKey), cancellationToken: Ct).ResponseAsync)
            .ToList();
        await twoInFlight.DefaultTimeout();

        // Act
        var flood = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Record.ExceptionAsync(() =>
            reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, Key(GatewayHost.AcmeKey), cancellationToken: Ct).ResponseAsync.DefaultTimeout()).AsTask()));
        var balances = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            paymentsClient.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, Key(GatewayHost.AcmeKey), cancellationToken: Ct).ResponseAsync.DefaultTimeout()));
        gate.SetResult();
        await Task.WhenAll(held).DefaultTimeout();

        // Assert
        Assert.All(balances, b => Assert.Equal(42, b.BalanceMinor));
        Assert.All(flood, e =>
        {
            var error = Assert.IsType<RpcException>(e);
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Equal(GatewayRejectReasons.RouteOverloaded, error.Trailers.GetValue(MeshMetadata.RejectReason));
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
            ["Bulkheads:reporting:QueueLimit"] = "0",
            ["Bulkheads:reporting:TenantMaxShare"] = "0.5",
        });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fourInFlight = HoldReporting(reporting, gate, 4);
        var reports = new ReportingService.ReportingServiceClient(gateway.CreateChannel());
        Task<BuildReportResponse> Report(string key) =>
            reports.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, Key(key), cancellationToken: Ct).ResponseAsync;

        // Act: acme tries 4 at once: two are held, two come back at once; then globex still gets in.
        var acme = Enumerable.Range(0, 4).Select(_ => Record.ExceptionAsync(() => Report(GatewayHost.AcmeKey)).AsTask()).ToList();
        // Count completions, not wake-ups: both rejections can complete before the second wait, and
        // waiting then on "any not completed" would wait on the two held calls forever.
        while (acme.Count(t => t.IsCompleted) < 2)
        {
            await Task.WhenAny(acme.Where(t => !t.IsCompleted)).DefaultTimeout();
        }

        var globex = Enumerable.Range(0, 2).Select(_ => Report(GatewayHost.GlobexKey)).ToList();
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
            Assert.Equal(GatewayRejectReasons.RouteOverloaded, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.Contains("maximum share", e.Status.Detail, StringComparison.Ordinal);
        });
        Assert.Equal(2, reporting.Calls.Count(c => c.Values(MeshMetadata.TenantId).SequenceEqual(["globex"])));
        Assert.Equal(2, reporting.Calls.Count(c => c.Values(MeshMetadata.TenantId).SequenceEqual(["acme"])));
    }

    [Fact]
    public async Task RoutePermits_DestinationAddedThenUnhealthy_FollowTheAvailableDestinations()
    {
        // Arrange: one reporting destination, 3 permits per destination.
        await using var reporting = await FakeBackend.StartAsync<FakeReportingService>();
        await using var reporting2 = await FakeBackend.StartAsync<FakeReportingService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, reporting.Address, closed, new Dictionary<string, string?>
        {
            ["Gateway:RouteBulkheads:reporting:PermitsPerDestination"] = "3",
            ["Gateway:RouteBulkheads:RefreshInterval"] = "00:00:00.050",
            ["ReverseProxy:Clusters:reporting:HealthCheck:Active:Interval"] = "00:00:00.200",
            ["ReverseProxy:Clusters:reporting:Metadata:ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
        });
        var bulkhead = gateway.Services.GetRequiredService<IBulkheadProvider>().Get("reporting");
        var initial = bulkhead.PermitLimit;

        // Act: scale out to a second replica, then that replica dies and the probes notice.
        ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = reporting2.Address.ToString(),
        });
        await WaitForPermitsAsync(bulkhead, 6);
        ConfigurationEdit.Apply(gateway.Services, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = closed.ToString(),
        });
        await WaitForPermitsAsync(bulkhead, 3);

        // Assert
        Assert.Equal(3, initial);
        Assert.Equal(3, bulkhead.PermitLimit);
    }

    private static async Task WaitForPermitsAsync(Bulkhead bulkhead, int expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (bulkhead.PermitLimit != expected)
        {
            // Polls what the gateway derived from YARP's cluster state; bounded by the default timeout.
            await Task.Delay(20, timeout.Token);
        }
    }
}
