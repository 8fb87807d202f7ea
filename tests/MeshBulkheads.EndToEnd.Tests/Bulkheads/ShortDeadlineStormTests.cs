using System.Diagnostics.Metrics;
using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Render.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// A storm of calls with short deadlines (30–80 ms) through the gateway at a service whose queue builds:
/// every call ends DEADLINE_EXCEEDED (never another error), the services shed queued calls when their
/// deadlines pass, and a server-side probe proves that no handler (payments) and no render job (render)
/// started after its deadline.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class ShortDeadlineStormTests
{
    private const int Waves = 12;
    private const int WaveSize = 4;
    private static readonly TimeSpan WaveInterval = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task RenderStorm_ShortDeadlines_DeadlineExceededAndNoJobStartsLate()
    {
        // Arrange: one worker and heavy renders (hundreds of ms each), so the queue builds and every
        // running job outlives its caller's deadline; a queue long enough that no call is refused for
        // being full (the storm is about deadlines, not queue limits).
        var ledger = new StartLedger();
        var settings = new BulkheadMeshSettings().WithUnlimitedGold();
        settings.Render["Render:Workers"] = "1";
        settings.Render["Render:QueueLimit"] = "200";
        settings.ConfigureRender = ledger.AddTo;
        await using var mesh = await BulkheadMesh.StartAsync(settings);
        using var bulkhead = new MetricCollector<long>(mesh.Render.Services.GetRequiredService<IMeterFactory>(), Measurements.BulkheadMeter, Measurements.BulkheadRequests);
        var client = new RenderService.RenderServiceClient(mesh.GatewayChannel);

        // Act: each call has unique parameters (width 256 + i) so the probe can match a job to its call's deadline.
        var outcomes = await FixedRateFlood.RunAsync(Waves, WaveSize, WaveInterval, i =>
            client.RenderAsync(
                new RenderRequest { Width = 256 + i, Height = 256, Iterations = 2000 },
                BulkheadMesh.As(BulkheadMesh.GoldKey, ShortDeadline(i))).ResponseAsync);

        // Assert
        AssertAllDeadlineExceeded(outcomes);
        Assert.Empty(ledger.UnknownJobs);
        Assert.True(ledger.LateStarts.IsEmpty, "late starts: " + string.Join("; ", ledger.LateStarts));
        // The probe saw work start (it observes something) and the bulkhead shed queued renders on their deadlines.
        Assert.True(ledger.JobStarts > 0, "no render job started: the probe proved nothing");
        Assert.True(ShedWithoutStarting(bulkhead, "render") > 0, "the render bulkhead shed nothing: " + Measurements.Breakdown(bulkhead, "render"));
        Assert.True(ledger.JobStarts < outcomes.Count, $"all {outcomes.Count} renders started: nothing was shed");
    }

    [Fact]
    public async Task PaymentsReadStorm_ShortDeadlines_DeadlineExceededAndNoHandlerStartsLate()
    {
        // Arrange: a slow database (every query waits 200 ms, cancellable) and two read permits, so reads
        // queue and every read that starts outlives its deadline; a queue no storm fills.
        var ledger = new StartLedger();
        var settings = new BulkheadMeshSettings().WithUnlimitedGold();
        settings.Payments["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.200";
        // Seeding goes through the (now slow) ledger: skip it. A read waits the 200 ms before it could
        // find out that its account does not exist, so every read outlives its deadline either way.
        settings.Payments["Payments:Seed"] = "false";
        settings.Payments["Bulkheads:payments-read:PermitLimit"] = "2";
        settings.Payments["Bulkheads:payments-read:QueueLimit"] = "200";
        settings.ConfigurePayments = ledger.AddTo;
        await using var mesh = await BulkheadMesh.StartAsync(settings);
        using var bulkhead = new MetricCollector<long>(mesh.Payments.Services.GetRequiredService<IMeterFactory>(), Measurements.BulkheadMeter, Measurements.BulkheadRequests);
        var client = new PaymentsService.PaymentsServiceClient(mesh.GatewayChannel);
        var startsBefore = ledger.HandlerStarts;

        // Act
        var outcomes = await FixedRateFlood.RunAsync(Waves, WaveSize, WaveInterval, i =>
            client.GetBalanceAsync(
                new GetBalanceRequest { AccountId = $"acct-{1 + (i % 100):D4}" },
                BulkheadMesh.As(BulkheadMesh.GoldKey, ShortDeadline(i))).ResponseAsync);

        // Assert
        AssertAllDeadlineExceeded(outcomes);
        Assert.True(ledger.LateStarts.IsEmpty, "late starts: " + string.Join("; ", ledger.LateStarts));
        var started = ledger.HandlerStarts - startsBefore;
        Assert.True(started > 0, "no GetBalance handler started: the probe proved nothing");
        Assert.True(ShedWithoutStarting(bulkhead, "payments-read") > 0, "payments-read shed nothing: " + Measurements.Breakdown(bulkhead, "payments-read"));
        Assert.True(started < outcomes.Count, $"all {outcomes.Count} reads started: nothing was shed");
    }

    /// <summary>
    /// Calls the bulkhead removed or refused without ever granting a permit: on their deadline, or
    /// <c>canceled</c> when the caller's own deadline fired first and it reset the stream through the gateway.
    /// </summary>
    private static long ShedWithoutStarting(MetricCollector<long> collector, string bulkhead) =>
        Measurements.Sum(collector, (Measurements.BulkheadTag, bulkhead), (Measurements.BulkheadResultTag, "deadline"))
        + Measurements.Sum(collector, (Measurements.BulkheadTag, bulkhead), (Measurements.BulkheadResultTag, "canceled"));

    /// <summary>30–80 ms, spread over the storm.</summary>
    private static TimeSpan ShortDeadline(int i) => TimeSpan.FromMilliseconds(30 + (i * 17 % 51));

    private static void AssertAllDeadlineExceeded(IReadOnlyList<CallOutcome> outcomes)
    {
        Assert.Equal(Waves * WaveSize, outcomes.Count);
        var others = outcomes.Where(o => o.Status != StatusCode.DeadlineExceeded).ToList();
        Assert.True(others.Count == 0, "calls that did not end DEADLINE_EXCEEDED: " + string.Join("; ", others));
    }
}
