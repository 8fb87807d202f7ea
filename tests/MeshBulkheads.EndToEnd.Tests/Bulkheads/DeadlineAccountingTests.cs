using Grpc.Net.Client;
using MeshBulkheads.Payments;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// A request whose deadline passes while it waits in a service bulkhead is counted <c>result=deadline</c>
/// (and answered DEADLINE_EXCEEDED with <c>x-mesh-reject-reason: deadline-exceeded</c>), not <c>canceled</c>.
/// </summary>
/// <remarks>
/// Regression test: <c>BulkheadInterceptor</c> used to pass the handler's token to <c>AcquireAsync</c>. That
/// token is linked to a timer at the deadline (<c>DeadlineInterceptor</c>), due at the same instant as the
/// bulkhead's own deadline timer; when it won, the waiter was removed as <c>Canceled</c> and
/// <c>meshbulkheads_bulkhead_requests_total</c> reported deadline expiries as client cancellations (here about
/// half of them). The interceptor now passes <c>RequestAborted</c> (only the caller leaving), as the gateway's
/// route bulkhead already does.
/// </remarks>
[Collection(EndToEndCollection.Name)]
public class DeadlineAccountingTests
{
    private const int Waiters = 6;

    [Fact]
    public async Task QueuedRead_DeadlinePassesWhileQueued_CountedAsDeadlineNotCanceled()
    {
        // Arrange: one read permit, held by a slow read (every query waits 1 s).
        await using var payments = await KestrelHost.StartAsync(PaymentsApp.Build, new Dictionary<string, string?>
        {
            ["Payments:DataDirectory"] = Path.Combine(Path.GetTempPath(), "meshbulkheads-accounting-" + Guid.NewGuid().ToString("N")),
            ["Payments:Seed"] = "false",
            ["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:01",
            ["Bulkheads:payments-read:PermitLimit"] = "1",
        });
        using var requests = Measurements.BulkheadRequestsOf(payments);
        var client = new PaymentsService.PaymentsServiceClient(payments.CreateChannel());
        // The waiters' calls tell payments a 100 ms deadline while the client itself waits 5 s, so only payments' own two
        // timers race (this test's subject). With the client's deadline at 100 ms too, its RST_STREAM arrived before
        // payments' deadline timer fired on a loaded machine (the request reached payments late, so its deadline did
        // too), and the bulkhead rightly counted the caller leaving as canceled (CI: "deadline=2 canceled=4").
        var waiters = new PaymentsService.PaymentsServiceClient(payments.CreateChannel(new GrpcChannelOptions { HttpHandler = new ServerTimeoutHandler("100m") }));
        var headers = new Metadata { { "x-tenant-id", "acme" } };
        var holder = client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, DateTime.UtcNow.AddSeconds(5), TestContext.Current.CancellationToken).ResponseAsync;
        await requests.WaitForMeasurementsAsync(1, TestContext.Current.CancellationToken).DefaultTimeout();

        // Act: six reads with a 100 ms deadline wait behind it and expire in the queue (which timer fires
        // first is a race per call, so one call alone would show the bug only sometimes).
        var expired = await Task.WhenAll(Enumerable.Range(2, Waiters).Select(i => Assert.ThrowsAsync<RpcException>(() => waiters.GetBalanceAsync(
            new GetBalanceRequest { AccountId = $"acct-{i:D4}" }, headers, DateTime.UtcNow.AddSeconds(5), TestContext.Current.CancellationToken).ResponseAsync)));
        await Assert.ThrowsAsync<RpcException>(() => holder.DefaultTimeout()); // NOT_FOUND: nothing seeded.

        // Assert
        Assert.All(expired, e => Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode));
        Assert.Equal(
            $"deadline={Waiters} canceled=0",
            $"deadline={Measurements.Ended(requests, "payments-read", "deadline")} "
            + $"canceled={Measurements.Ended(requests, "payments-read", "canceled")}");
    }

    /// <summary>Sends <c>grpc-timeout</c> as given instead of the client's own deadline.</summary>
    private sealed class ServerTimeoutHandler(string timeout) : DelegatingHandler(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("grpc-timeout");
            request.Headers.TryAddWithoutValidation("grpc-timeout", timeout);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
