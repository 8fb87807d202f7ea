namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Issue 3, "integration tests through the gateway": a reporting flood far beyond reporting's limits does
/// not hurt payments. Reporting sheds fast with UNAVAILABLE + pushback + a reason (never a timeout), the
/// sheds are counted under the right bulkhead names, and payments' bulkheads shed nothing.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class ReportingFloodTests
{
    private const int Waves = 10;
    private const int WaveSize = 8;
    private const int PaymentCalls = 30;

    private static readonly string[] ShedReasons = ["queue-full", "queue-timeout", "route-overloaded", "tenant-share"];

    [Fact]
    public async Task ReportingFlood_PaymentsClientMeanwhile_PaymentsAllSucceedAndReportingShedsWithPushback()
    {
        // Arrange: 3 reports at a time (queue 1), 2 downstream calls per report, a fan-out cap of 2 (queue 2).
        // One or two reports fit; a wave of 8 exceeds the reports bulkhead at once, and three admitted
        // 20-account reports (2 calls each, 6 > 2 + 2) exceed the fan-out cap.
        var settings = new InProcessMeshSettings().WithUnlimitedGold(); // the flood tenant is never rate limited
        settings.Reporting["Bulkheads:reporting:PermitLimit"] = "3";
        settings.Reporting["Bulkheads:reporting:QueueLimit"] = "1";
        settings.Reporting["Reporting:MaxParallelismPerReport"] = "2";
        settings.Reporting["Bulkheads:reporting-fanout:PermitLimit"] = "2";
        settings.Reporting["Bulkheads:reporting-fanout:QueueLimit"] = "2";
        await using var mesh = await InProcessMesh.StartAsync(settings);
        using var reportingSheds = Measurements.BulkheadRequestsOf(mesh.Reporting);
        using var paymentsBulkheads = Measurements.BulkheadRequestsOf(mesh.Payments);
        using var gatewayRejections = Measurements.GatewayCounter(mesh.Gateway, "meshbulkheads.gateway.rejected_requests");
        var reporting = new ReportingService.ReportingServiceClient(mesh.GatewayChannel);
        var payments = new PaymentsService.PaymentsServiceClient(mesh.GatewayChannel);
        var report = new BuildReportRequest();
        report.AccountIds.AddRange(Enumerable.Range(1, 20).Select(i => $"acct-{i:D4}"));

        // Act: the flood (acme, gold) and, while it runs, a fixed number of payments calls (globex, silver:
        // 30 calls at 100/s stay inside its 50/s rate with a burst of 100), all with 10 s deadlines.
        var flood = FixedRateFlood.RunAsync(Waves, WaveSize, TimeSpan.FromMilliseconds(50), _ =>
            reporting.BuildReportAsync(report, InProcessMesh.As(DemoTenants.AcmeKey, TimeSpan.FromSeconds(10))).ResponseAsync);
        var shedsBeforePayments = Shed(reportingSheds);
        var paymentOutcomes = await FixedRateFlood.RunAsync(PaymentCalls, 1, TimeSpan.FromMilliseconds(10), i => i % 2 == 0
            ? payments.ChargeAsync(
                new ChargeRequest { AccountId = $"acct-{1 + (i % 10):D4}", AmountMinor = 100, Currency = "USD", IdempotencyKey = "flood-" + i.ToString(CultureInfo.InvariantCulture) },
                InProcessMesh.As(DemoTenants.GlobexKey, TimeSpan.FromSeconds(10))).ResponseAsync
            : payments.GetBalanceAsync(new GetBalanceRequest { AccountId = $"acct-{1 + (i % 10):D4}" }, InProcessMesh.As(DemoTenants.GlobexKey, TimeSpan.FromSeconds(10))).ResponseAsync);
        var shedsDuringPayments = Shed(reportingSheds) - shedsBeforePayments;
        var floodOutcomes = await flood;

        // Assert: payments unharmed.
        Assert.True(paymentOutcomes.All(o => o.Status == StatusCode.OK), "failed payments calls: " + string.Join("; ", paymentOutcomes.Where(o => o.Status != StatusCode.OK)));
        Assert.Equal(0, Measurements.Rejected(paymentsBulkheads, "payments-read") + Measurements.Rejected(paymentsBulkheads, "payments-charge"));
        // The flood was being shed while payments ran (not before or after it).
        Assert.True(
            shedsDuringPayments > 0,
            "reporting shed nothing while the payments calls ran: bulkhead 'reporting': " + Measurements.Breakdown(reportingSheds, "reporting")
            + "; 'reporting-fanout': " + Measurements.Breakdown(reportingSheds, "reporting-fanout"));

        // Reporting: shed fast with UNAVAILABLE, a pushback and a reason; never a timeout or another error.
        var failures = floodOutcomes.Where(o => o.Status != StatusCode.OK).ToList();
        Assert.NotEmpty(failures);
        Assert.True(failures.All(o => o.Status == StatusCode.Unavailable), "reports that failed otherwise: " + string.Join("; ", failures.Where(o => o.Status != StatusCode.Unavailable)));
        Assert.All(failures, o =>
        {
            Assert.Contains(o.RejectReason, ShedReasons);
            Assert.True(int.TryParse(o.Pushback, NumberStyles.None, CultureInfo.InvariantCulture, out var pushbackMs) && pushbackMs > 0, $"no pushback: {o}");
        });
        Assert.Contains(floodOutcomes, o => o.Status == StatusCode.OK);

        // Metrics: the service's sheds are counted under its bulkheads 'reporting' (admission) and 'reporting-fanout'
        // (the cap) — their sum grew while payments ran (asserted above), not each: which of the two sheds depends on
        // how a wave's calls arrive (on a loaded CI machine the reports reached reporting one after another, all 80
        // were admitted, 'reporting' acquired=80, and only the fan-out cap shed). The gateway's under the route, one
        // per route-overloaded answer.
        Assert.Equal(
            failures.Count(o => o.RejectReason == "route-overloaded"),
            Measurements.Sum(gatewayRejections, ("meshbulkheads.route", "reporting"), ("meshbulkheads.reject_reason", "route_overloaded")));
        Assert.Equal(0, Measurements.Sum(gatewayRejections, ("meshbulkheads.route", "payments")));
    }

    private static long Shed(MetricCollector<long> reportingSheds) =>
        Measurements.Rejected(reportingSheds, "reporting") + Measurements.Rejected(reportingSheds, "reporting-fanout");
}
