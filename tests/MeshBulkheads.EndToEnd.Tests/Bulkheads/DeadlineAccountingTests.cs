using System.Diagnostics.Metrics;
using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Payments;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Known production bug, kept as an explicit (opt-in) failing test: a request whose deadline passes
/// while it waits in a service bulkhead is counted <c>result=canceled</c> instead of <c>result=deadline</c>.
/// </summary>
/// <remarks>
/// <c>DeadlineInterceptor</c> hands the handler (and so <c>BulkheadInterceptor</c>'s <c>AcquireAsync</c>) a
/// token linked to a timer at the deadline. That timer and the bulkhead's own deadline timer are due at the
/// same instant; the token usually wins, and <c>Bulkhead.CancelWaiter</c> completes the waiter as
/// <c>Canceled</c>. The caller still gets DEADLINE_EXCEEDED (the interceptor remaps it), but
/// <c>meshbulkheads_bulkhead_requests_total</c> reports queue-deadline expiries as client cancellations.
/// Fix (libs/MeshBulkheads.Concurrency/Bulkheads/Bulkhead.cs, <c>CancelWaiter</c>): take
/// <c>now = _timeProvider.GetTimestamp()</c> and complete with <c>BulkheadRejectionReason.DeadlineExceeded</c>
/// when <c>now &gt;= waiter.DeadlineAt</c>, <c>Canceled</c> otherwise. Run with
/// <c>-- --filter-class "*DeadlineAccountingTests" --explicit only</c>.
/// </remarks>
[Collection(EndToEndCollection.Name)]
public class DeadlineAccountingTests
{
    [Fact(Explicit = true)]
    public async Task QueuedRead_DeadlinePassesWhileQueued_CountedAsDeadlineNotCanceled()
    {
        // Arrange: one read permit, held by a slow read (every query waits 300 ms).
        await using var payments = await KestrelHost.StartAsync(PaymentsApp.Build, new Dictionary<string, string?>
        {
            ["Payments:DataDirectory"] = Path.Combine(Path.GetTempPath(), "meshbulkheads-accounting-" + Guid.NewGuid().ToString("N")),
            ["Payments:Seed"] = "false",
            ["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.300",
            ["Bulkheads:payments-read:PermitLimit"] = "1",
        });
        using var requests = new MetricCollector<long>(payments.Services.GetRequiredService<IMeterFactory>(), Measurements.BulkheadMeter, Measurements.BulkheadRequests);
        var client = new PaymentsService.PaymentsServiceClient(payments.CreateChannel());
        var headers = new Metadata { { "x-tenant-id", "acme" } };
        var holder = client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, DateTime.UtcNow.AddSeconds(5), TestContext.Current.CancellationToken).ResponseAsync;
        await requests.WaitForMeasurementsAsync(1, TestContext.Current.CancellationToken).DefaultTimeout();

        // Act: a read with a 100 ms deadline waits behind it and expires in the queue.
        var expired = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0002" }, headers, DateTime.UtcNow.AddMilliseconds(100), TestContext.Current.CancellationToken).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => holder.DefaultTimeout()); // NOT_FOUND: nothing seeded.

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, expired.StatusCode);
        Assert.Equal(1, Measurements.Sum(requests, (Measurements.BulkheadTag, "payments-read"), (Measurements.BulkheadResultTag, "deadline")));
        Assert.Equal(0, Measurements.Sum(requests, (Measurements.BulkheadTag, "payments-read"), (Measurements.BulkheadResultTag, "canceled")));
    }
}
