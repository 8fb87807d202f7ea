
namespace MeshBulkheads.Payments.Tests;

/// <summary>
/// Reporting's fan-out enters payments through the reads. A bounded flood of sheddable reads through a
/// small <c>payments-read</c> bulkhead is shed at its own door (UNAVAILABLE with a reason and pushback)
/// while every charge, on its own bulkhead, partitions and connection pool, succeeds.
/// </summary>
public sealed class ReadFloodTests : PaymentsHostTests
{
    private const int Reads = 400;
    private const int ReadConcurrency = 64;
    private const int Charges = 40;

    [Fact]
    public async Task Charge_DuringReadFlood_AllSucceedWhileReadsAreShedWithPushback()
    {
        // Arrange
        var host = await Scope.StartSqliteAsync(new Dictionary<string, string?>
        {
            ["Bulkheads:payments-read:PermitLimit"] = "2",
            ["Bulkheads:payments-read:QueueLimit"] = "4",
            // Every ledger call takes ≥ 20 ms, so 64 concurrent reads really overload 2 permits.
            ["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.020",
        });
        var reader = PaymentsHostScope.Client(host, Tenant, criticality: "sheddable");
        var charger = PaymentsHostScope.Client(host, Tenant, criticality: "critical");
        var hot = "flood-" + Guid.NewGuid().ToString("N")[..8];
        await charger.ChargeAsync(PaymentsHostScope.Charge(hot, 1), cancellationToken: Ct);

        // Act
        var flood = FloodAsync(reader, hot);
        var charges = await Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
        {
            var results = new List<StatusCode>();
            for (var i = 0; i < Charges / 4; i++)
            {
                try
                {
                    await charger.ChargeAsync(PaymentsHostScope.Charge($"charge-{worker}", 10), cancellationToken: Ct);
                    results.Add(StatusCode.OK);
                }
                catch (RpcException ex)
                {
                    results.Add(ex.StatusCode);
                }
            }

            return results;
        })).DefaultTimeout();
        var reads = await flood.DefaultTimeout();

        // Assert
        Assert.All(charges.SelectMany(r => r), status => Assert.Equal(StatusCode.OK, status));
        Assert.Equal(Reads, reads.Count);
        var shed = reads.Where(r => r.Status != StatusCode.OK).ToList();
        Assert.NotEmpty(shed);
        Assert.Contains(reads, r => r.Status == StatusCode.OK);
        Assert.All(shed, r =>
        {
            Assert.Equal(StatusCode.Unavailable, r.Status);
            // One tenant floods: beyond its TenantMaxShare (0.5 of 2 permits + 4 slots) it is shed as tenant-share.
            Assert.Contains(r.Reason, new[] { "queue-full", "queue-timeout", "tenant-share" });
            Assert.True(long.TryParse(r.Pushback, out var ms) && ms >= 50, $"pushback '{r.Pushback}'");
        });
        for (var worker = 0; worker < 4; worker++)
        {
            var balance = await charger.GetBalanceAsync(new GetBalanceRequest { AccountId = $"charge-{worker}" }, cancellationToken: Ct);
            Assert.Equal(Charges / 4 * 10, balance.BalanceMinor);
        }
    }

    private static async Task<List<ReadResult>> FloodAsync(PaymentsService.PaymentsServiceClient client, string account)
    {
        using var concurrency = new SemaphoreSlim(ReadConcurrency);
        var calls = Enumerable.Range(0, Reads).Select(async _ =>
        {
            await concurrency.WaitAsync(Ct);
            try
            {
                await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
                return new ReadResult(StatusCode.OK, null, null);
            }
            catch (RpcException ex)
            {
                return new ReadResult(ex.StatusCode, ex.Trailers.GetValue(MeshMetadata.RejectReason), ex.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
            }
            finally
            {
                concurrency.Release();
            }
        }).ToList();
        return [.. await Task.WhenAll(calls)];
    }

    private sealed record ReadResult(StatusCode Status, string? Reason, string? Pushback);
}
