namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Issue 4 end to end: a bronze tenant flooding render is stopped by its own token bucket
/// (RESOURCE_EXHAUSTED with pushback, before render), while a gold tenant's renders all succeed, and
/// only the flooding tenant's rejection counters rise.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class TenantFairnessTests
{
    private const int BronzeCalls = 16;
    private const int GoldCalls = 10;

    [Fact]
    public async Task BronzeFloodsRender_GoldMeanwhile_BronzeRateLimitedGoldAllSucceed()
    {
        // Arrange: the real tiers (bronze 10 tokens/s, burst 20; gold 200/s, burst 400; a render costs 10).
        await using var mesh = await InProcessMesh.StartAsync(new InProcessMeshSettings());
        using var decisions = Measurements.GatewayCounter(mesh.Gateway, "meshbulkheads.gateway.rate_limit.requests");
        var client = new RenderService.RenderServiceClient(mesh.GatewayChannel);
        var small = new RenderRequest { Width = 64, Height = 64, Iterations = 50 };

        // Act: bronze sends 16 renders in 80 ms (160 tokens against a burst of 20); gold sends 10 meanwhile, one after
        // the other. (Fired at a fixed rate, gold's own renders piled up when a loaded machine slowed them, and gold alone
        // passed its share of render's bulkhead, TenantMaxShare 0.5: one CI run saw a gold render refused tenant-share.
        // This test is about what bronze does to gold.)
        var bronze = FixedRateFlood.RunAsync(BronzeCalls, 1, TimeSpan.FromMilliseconds(5), _ =>
            client.RenderAsync(small, InProcessMesh.As(DemoTenants.InitechKey, TimeSpan.FromSeconds(10))).ResponseAsync);
        var gold = GoldOneAfterAnotherAsync(client, small);
        var bronzeOutcomes = await bronze;
        var goldOutcomes = await gold;

        // Assert: gold unharmed.
        Assert.True(goldOutcomes.All(o => o.Status == StatusCode.OK), "failed gold renders: " + string.Join("; ", goldOutcomes.Where(o => o.Status != StatusCode.OK)));

        // Bronze: its burst passes, the rest is RESOURCE_EXHAUSTED with the tenant-rate-limit reason and a pushback.
        var limited = bronzeOutcomes.Where(o => o.Status != StatusCode.OK).ToList();
        Assert.True(limited.Count >= BronzeCalls - 3, $"only {limited.Count} of {BronzeCalls} bronze renders were limited");
        Assert.All(limited, o =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, o.Status);
            Assert.Equal("tenant-rate-limit", o.RejectReason);
            Assert.True(int.TryParse(o.Pushback, NumberStyles.None, CultureInfo.InvariantCulture, out var pushbackMs) && pushbackMs > 0, $"no pushback: {o}");
        });

        // Only bronze's rejection counter rose; gold's decisions were all 'allowed'.
        Assert.Equal(limited.Count, Decisions(decisions, "initech", "rejected"));
        Assert.Equal(BronzeCalls - limited.Count, Decisions(decisions, "initech", "allowed"));
        Assert.Equal(0, Decisions(decisions, "acme", "rejected"));
        Assert.Equal(GoldCalls, Decisions(decisions, "acme", "allowed"));
        Assert.Equal(0, Decisions(decisions, "globex", "rejected"));
    }

    private static async Task<List<CallOutcome>> GoldOneAfterAnotherAsync(RenderService.RenderServiceClient client, RenderRequest request)
    {
        var outcomes = new List<CallOutcome>(GoldCalls);
        for (var i = 0; i < GoldCalls; i++)
        {
            outcomes.Add(await FixedRateFlood.CaptureAsync(i, _ => client.RenderAsync(request, InProcessMesh.As(DemoTenants.AcmeKey, TimeSpan.FromSeconds(10))).ResponseAsync));
        }

        return outcomes;
    }

    private static long Decisions(MetricCollector<long> collector, string tenant, string result) =>
        Measurements.Sum(collector, ("meshbulkheads.tenant", tenant), ("meshbulkheads.route", "render"), ("meshbulkheads.result", result));
}
