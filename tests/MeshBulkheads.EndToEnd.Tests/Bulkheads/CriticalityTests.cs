namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Issue 4, criticality: with the gateway's payments route saturated by balance reads (sheddable), the
/// gateway sheds reads and keeps admitting charges (critical): a charge that meets a full queue displaces
/// the newest waiting read.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class CriticalityTests
{
    private const int Reads = 120;
    private const int Charges = 8;

    [Fact]
    public async Task PaymentsRouteSaturated_ChargesAndReads_ChargesAllSucceedReadsShed()
    {
        // Arrange: the route admits 2 calls at a time with a queue of 4 (waits up to 2 s); every ledger
        // call takes 50 ms, so 2 permits serve ≈ 40 calls/s against a read flood of 250/s. One tenant may
        // hold the whole route (share 1), so only criticality decides who is shed.
        var settings = new InProcessMeshSettings().WithUnlimitedGold();
        settings.Gateway["Gateway:RouteBulkheads:payments:PermitsPerDestination"] = "2";
        settings.Gateway["Gateway:RouteBulkheads:payments:QueuePerDestination"] = "4";
        settings.Gateway["Bulkheads:gateway-payments:MaxQueueTime"] = "00:00:02";
        settings.Gateway["Bulkheads:gateway-payments:TenantMaxShare"] = "1";
        settings.Payments["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.050";
        settings.Payments["Payments:Seed"] = "false"; // seeding would go through the slow ledger
        await using var mesh = await InProcessMesh.StartAsync(settings);
        var client = new PaymentsService.PaymentsServiceClient(mesh.GatewayChannel);
        // The account the reads look up (nothing is seeded).
        await client.ChargeAsync(Charge("setup", "acct-0001"), InProcessMesh.As(DemoTenants.AcmeKey, TimeSpan.FromSeconds(10)));
        using var routeBulkhead = Measurements.BulkheadRequestsOf(mesh.Gateway);

        // Act: a read flood (acme), and meanwhile charges (globex) one at a time, each with a 10 s deadline.
        var reads = FixedRateFlood.RunAsync(Reads, 1, TimeSpan.FromMilliseconds(4), _ =>
            client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey, TimeSpan.FromSeconds(10))).ResponseAsync);
        await routeBulkhead.WaitForMeasurementsAsync(Reads / 4, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var shedBeforeCharges = Measurements.Rejected(routeBulkhead, "gateway-payments");
        var charges = new List<CallOutcome>();
        for (var i = 0; i < Charges; i++)
        {
            charges.Add(await FixedRateFlood.CaptureAsync(i, n =>
                client.ChargeAsync(Charge("critical-" + n.ToString(CultureInfo.InvariantCulture), "acct-0002"), InProcessMesh.As(DemoTenants.GlobexKey, TimeSpan.FromSeconds(10))).ResponseAsync));
        }

        var shedWhileCharging = Measurements.Rejected(routeBulkhead, "gateway-payments") - shedBeforeCharges;
        var readOutcomes = await reads;

        // Assert: every charge succeeded while the route was shedding reads.
        Assert.True(charges.All(o => o.Status == StatusCode.OK), "failed charges: " + string.Join("; ", charges.Where(o => o.Status != StatusCode.OK)));
        Assert.True(shedBeforeCharges > 0, "the route was not saturated before the charges: " + Measurements.Breakdown(routeBulkhead, "gateway-payments"));
        Assert.True(shedWhileCharging > 0, "the route shed nothing while the charges ran: " + Measurements.Breakdown(routeBulkhead, "gateway-payments"));

        // Reads were shed at the gateway with UNAVAILABLE, route-overloaded and a pushback; none failed otherwise.
        var shed = readOutcomes.Where(o => o.Status != StatusCode.OK).ToList();
        Assert.NotEmpty(shed);
        Assert.All(shed, o =>
        {
            Assert.Equal(StatusCode.Unavailable, o.Status);
            Assert.Equal("route-overloaded", o.RejectReason);
            Assert.True(int.TryParse(o.Pushback, NumberStyles.None, CultureInfo.InvariantCulture, out var pushbackMs) && pushbackMs > 0, $"no pushback: {o}");
        });
        Assert.Equal(shed.Count, Measurements.Rejected(routeBulkhead, "gateway-payments"));
    }

    private static ChargeRequest Charge(string key, string account) =>
        new() { AccountId = account, AmountMinor = 100, Currency = "USD", IdempotencyKey = key };
}
