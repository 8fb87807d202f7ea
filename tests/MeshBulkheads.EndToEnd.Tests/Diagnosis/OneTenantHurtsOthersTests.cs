using System.Diagnostics;

namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// "One tenant hurts others" (docs/diagnosis.md): bronze tenant initech floods payments reads through the
/// gateway while gold tenant acme reads steadily. Healthy isolation, read from the gateway's telemetry:
/// only initech's rate-limit rejections grow (<c>meshbulkheads_gateway_rate_limit_requests_total</c>,
/// and the recorded <c>meshbulkheads:tenant_rejections:ratio_rate5m</c>), and acme's calls all succeed.
/// </summary>
/// <remarks>
/// The flood runs until Prometheus' recording shows initech's rejection ratio (bounded by 20 s): rate()
/// needs the rejected series to grow across scrapes, so a flood shorter than a scrape interval would
/// leave the ratio NaN. acme reads every 100 ms meanwhile.
/// </remarks>
[Collection(DiagnosisCollection.Name)]
public sealed class OneTenantHurtsOthersTests(DiagnosisMesh fixture) : IDisposable
{
    private const string Decisions = "meshbulkheads_gateway_rate_limit_requests_total";
    private const string TenantRejections = "meshbulkheads:tenant_rejections:ratio_rate5m";

    // Bronze: 10 tokens/s, burst 20 (gateway appsettings.json): 2 callers without pause overflow it.
    private const int FloodConcurrency = 2;
    private static readonly TimeSpan AcmeInterval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task GatewayReads_InitechFloodsWhileAcmeReads_OnlyInitechIsRejectedAndAcmeSucceeds()
    {
        // Arrange
        var prometheus = fixture.Prometheus;
        var ct = TestContext.Current.CancellationToken;
        var client = new PaymentsService.PaymentsServiceClient(fixture.Mesh.Gateway.CreateChannel());
        using var admin = fixture.Mesh.Gateway.CreateAdminClient();
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        async Task<StatusCode> Read(string apiKey)
        {
            try
            {
                await client.GetBalanceAsync(request, new Metadata { { "x-api-key", apiKey } }, DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }

        Assert.Equal(StatusCode.OK, await Read(DemoTenants.AcmeKey).DefaultTimeout());
        var before = await MetricsScrape.ReadAsync(admin, ct);
        using var stop = new CancellationTokenSource();

        // Act
        var flood = Task.WhenAll(Enumerable.Range(0, FloodConcurrency).Select(async _ =>
        {
            var statuses = new List<StatusCode>();
            while (!stop.IsCancellationRequested)
            {
                statuses.Add(await Read(DemoTenants.InitechKey));
            }

            return statuses;
        }));
        var steady = Task.Run(async () =>
        {
            var calls = new List<(StatusCode Status, TimeSpan Latency)>();
            while (!stop.IsCancellationRequested)
            {
                var stopwatch = Stopwatch.StartNew();
                var status = await Read(DemoTenants.AcmeKey);
                calls.Add((status, stopwatch.Elapsed));
                await Task.Delay(AcmeInterval, CancellationToken.None);
            }

            return calls;
        }, ct);
        IReadOnlyList<Testing.Prometheus.PrometheusSample> ratios;
        try
        {
            ratios = await prometheus.WaitUntilAsync(
                TenantRejections, r => r.Any(s => s["meshbulkheads_tenant"] == "initech" && s.Value > 0), TimeSpan.FromSeconds(20), ct);
        }
        finally
        {
            await stop.CancelAsync();
        }

        var initech = (await flood.DefaultTimeout()).SelectMany(s => s).ToList();
        var acme = await steady.DefaultTimeout();
        var after = await MetricsScrape.ReadAsync(admin, ct);

        // Assert
        double Delta(string tenant, string result) =>
            after.Sum(Decisions, ("meshbulkheads_tenant", tenant), ("meshbulkheads_result", result))
            - before.Sum(Decisions, ("meshbulkheads_tenant", tenant), ("meshbulkheads_result", result));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"initech: {initech.Count} calls, allowed +{Delta("initech", "allowed")}, rejected +{Delta("initech", "rejected")}; "
            + $"acme: {acme.Count} calls, allowed +{Delta("acme", "allowed")}, rejected +{Delta("acme", "rejected")}, max latency {acme.Max(c => c.Latency).TotalMilliseconds:0} ms; "
            + $"ratios: {string.Join("; ", ratios)}");
        Assert.Contains(StatusCode.ResourceExhausted, initech);
        Assert.Equal(initech.Count(s => s == StatusCode.ResourceExhausted), Delta("initech", "rejected"));
        Assert.All(acme, c => Assert.Equal(StatusCode.OK, c.Status));
        Assert.Equal(0, Delta("acme", "rejected"));
        Assert.Equal(acme.Count, Delta("acme", "allowed"));
        Assert.DoesNotContain(ratios, s => s["meshbulkheads_tenant"] == "acme" && s.Value > 0);
    }

    public void Dispose() => fixture.ReportOutputIfTestFailed();
}
