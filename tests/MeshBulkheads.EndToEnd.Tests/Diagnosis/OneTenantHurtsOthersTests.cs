using System.Diagnostics;
using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Testing;

namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// "One tenant hurts others" (docs/diagnosis.md): bronze tenant initech floods payments reads through the
/// gateway while gold tenant acme reads steadily. Healthy isolation, read from the gateway's telemetry:
/// only initech's rate-limit rejections grow (<c>meshbulkheads_gateway_rate_limit_decisions_total</c>,
/// and the recorded <c>meshbulkheads:tenant_rejections:ratio_rate5m</c>), acme's calls all succeed.
/// </summary>
[Collection(DiagnosisCollection.Name)]
public sealed class OneTenantHurtsOthersTests(DiagnosisMesh fixture) : IDisposable
{
    private const string Decisions = "meshbulkheads_gateway_rate_limit_decisions_total";
    private const string TenantRejections = "meshbulkheads:tenant_rejections:ratio_rate5m";

    // Bronze: 10 tokens/s, burst 20 (gateway appsettings.json); 150 reads in a few seconds overflow it.
    private const int FloodCalls = 150;
    private const int FloodConcurrency = 10;
    private const int SteadyCalls = 20;

    [Fact]
    public async Task GatewayReads_InitechFloodsWhileAcmeReads_OnlyInitechIsRejectedAndAcmeSucceeds()
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var client = new PaymentsService.PaymentsServiceClient(fixture.Mesh.Gateway.CreateChannel());
        using var admin = fixture.Mesh.Gateway.CreateAdminClient();
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        Task<GetBalanceResponse> Read(string apiKey) =>
            client.GetBalanceAsync(request, new Metadata { { "x-api-key", apiKey } }, DateTime.UtcNow.AddSeconds(10), cancellationToken: ct).ResponseAsync;
        await Read("acme-dev-key").DefaultTimeout();
        var before = await MetricsScrape.ReadAsync(admin, ct);

        // Act
        var flood = Task.WhenAll(Enumerable.Range(0, FloodConcurrency).Select(async _ =>
        {
            var statuses = new List<StatusCode>();
            for (var i = 0; i < FloodCalls / FloodConcurrency; i++)
            {
                try
                {
                    await Read("initech-dev-key");
                    statuses.Add(StatusCode.OK);
                }
                catch (RpcException ex)
                {
                    statuses.Add(ex.StatusCode);
                }
            }

            return statuses;
        }));
        var acmeLatencies = new List<TimeSpan>();
        for (var i = 0; i < SteadyCalls; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await Read("acme-dev-key").DefaultTimeout();
            acmeLatencies.Add(stopwatch.Elapsed);
        }

        var initech = (await flood.DefaultTimeout()).SelectMany(s => s).ToList();
        var after = await MetricsScrape.ReadAsync(admin, ct);

        // Assert
        double Delta(string tenant, string result) =>
            after.Sum(Decisions, ("meshbulkheads_tenant", tenant), ("meshbulkheads_rate_limit_result", result))
            - before.Sum(Decisions, ("meshbulkheads_tenant", tenant), ("meshbulkheads_rate_limit_result", result));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"initech: allowed +{Delta("initech", "allowed")}, rejected +{Delta("initech", "rejected")}; acme: allowed +{Delta("acme", "allowed")}, rejected +{Delta("acme", "rejected")}; acme max latency {acmeLatencies.Max().TotalMilliseconds:0} ms");
        Assert.Contains(StatusCode.ResourceExhausted, initech);
        Assert.True(Delta("initech", "rejected") > 0, "initech's rejections should grow");
        Assert.Equal(initech.Count(s => s == StatusCode.ResourceExhausted), Delta("initech", "rejected"));
        Assert.Equal(0, Delta("acme", "rejected"));
        Assert.Equal(SteadyCalls, Delta("acme", "allowed"));

        var ratios = await fixture.Prometheus.WaitUntilAsync(
            TenantRejections, r => r.Any(s => s["meshbulkheads_tenant"] == "initech" && s.Value > 0), TimeSpan.FromSeconds(20), ct);
        Assert.DoesNotContain(ratios, s => s["meshbulkheads_tenant"] == "acme" && s.Value > 0);
    }

    public void Dispose() => fixture.ReportOutputIfTestFailed();
}
