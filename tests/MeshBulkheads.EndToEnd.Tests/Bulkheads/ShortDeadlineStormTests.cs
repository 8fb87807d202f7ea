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
        await using var storm = await Storm.StartAsync(inRender: true, new()
        {
            ["Render:WorkerCount"] = "1",
            ["Bulkheads:render:QueueLimit"] = "200",
        });
        var ledger = storm.Ledger;
        var client = new RenderService.RenderServiceClient(storm.Mesh.GatewayChannel);
        await client.RenderAsync(new RenderRequest { Width = 64, Height = 64, Iterations = 10 }, InProcessMesh.As(DemoTenants.AcmeKey, WarmUpDeadline));
        var jobsBefore = ledger.JobStarts;

        // Act: each call has unique parameters (width 256 + i) so the probe can match a job to its call's deadline.
        var outcomes = await FixedRateFlood.RunAsync(Waves, WaveSize, WaveInterval, i =>
            client.RenderAsync(
                new RenderRequest { Width = 256 + i, Height = 256, Iterations = 2000 },
                InProcessMesh.As(DemoTenants.AcmeKey, ShortDeadline(i))).ResponseAsync);

        // Assert
        Assert.Empty(ledger.UnknownJobs);
        AssertShedOnDeadlinesNoneStartedLate(outcomes, storm, ledger.JobStarts - jobsBefore, "render");
    }

    [Fact]
    public async Task PaymentsReadStorm_ShortDeadlines_DeadlineExceededAndNoHandlerStartsLate()
    {
        // Arrange: a slow database (every query waits 200 ms, cancellable) and two read permits, so reads
        // queue and every read that starts outlives its deadline; a queue no storm fills. (The deadlines stay under
        // the queue's 250 ms timeout and short enough that the gateway's tenant share never fills.)
        await using var storm = await Storm.StartAsync(inRender: false, new()
        {
            ["Payments:Pitfalls:ExtraQueryLatency"] = "00:00:00.200",
            // Seeding goes through the (now slow) ledger: skip it. A read waits the 200 ms before it could
            // find out that its account does not exist, so every read outlives its deadline either way.
            ["Payments:Seed"] = "false",
            ["Bulkheads:payments-read:PermitLimit"] = "2",
            ["Bulkheads:payments-read:QueueLimit"] = "200",
        });
        var ledger = storm.Ledger;
        var client = new PaymentsService.PaymentsServiceClient(storm.Mesh.GatewayChannel);
        var warmUp = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey, WarmUpDeadline)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, warmUp.StatusCode);
        var startsBefore = ledger.HandlerStarts;

        // Act
        var outcomes = await FixedRateFlood.RunAsync(Waves, WaveSize, WaveInterval, i =>
            client.GetBalanceAsync(
                new GetBalanceRequest { AccountId = $"acct-{1 + (i % 100):D4}" },
                InProcessMesh.As(DemoTenants.AcmeKey, ShortDeadline(i))).ResponseAsync);

        // Assert
        AssertShedOnDeadlinesNoneStartedLate(outcomes, storm, ledger.HandlerStarts - startsBefore, "payments-read");
    }

    /// <summary>
    /// Calls the bulkhead removed or refused without ever granting a permit: on their deadline, or
    /// <c>canceled</c> when the caller's own deadline fired first and it reset the stream through the gateway.
    /// </summary>
    private static long ShedWithoutStarting(MetricCollector<long> collector, string bulkhead) =>
        Measurements.Ended(collector, bulkhead, "deadline")
        + Measurements.Ended(collector, bulkhead, "canceled");

    /// <summary>
    /// One call before the storm with a deadline it cannot miss: it opens the gateway's connection to the service and
    /// JITs both paths, so on a loaded machine the storm's calls reach the bulkhead in time instead of dying on the way
    /// (without it, a fully loaded 2-core CI run once let only 2 of 48 reads reach payments' bulkhead).
    /// </summary>
    private static readonly TimeSpan WarmUpDeadline = TimeSpan.FromSeconds(30);

    /// <summary>30–80 ms, spread over the storm.</summary>
    private static TimeSpan ShortDeadline(int i) => TimeSpan.FromMilliseconds(30 + (i * 17 % 51));

    /// <summary>
    /// Every call ended DEADLINE_EXCEEDED, none of the <paramref name="started"/> handlers or jobs started late, and the
    /// storm proved something: work started (the probe observed it), yet <paramref name="bulkhead"/> shed queued calls
    /// on their deadlines, so not every call started.
    /// </summary>
    private static void AssertShedOnDeadlinesNoneStartedLate(
        IReadOnlyList<CallOutcome> outcomes, Storm storm, int started, string bulkhead)
    {
        var (ledger, bulkheads) = (storm.Ledger, storm.BulkheadRequests);
        Assert.Equal(Waves * WaveSize, outcomes.Count);
        var others = outcomes.Where(o => o.Status != StatusCode.DeadlineExceeded).ToList();
        Assert.True(others.Count == 0, "calls that did not end DEADLINE_EXCEEDED: " + string.Join("; ", others));
        Assert.True(ledger.LateStarts.IsEmpty, "late starts: " + string.Join("; ", ledger.LateStarts));
        Assert.True(started > 0, $"nothing started behind bulkhead '{bulkhead}': the probe proved nothing");
        Assert.True(ShedWithoutStarting(bulkheads, bulkhead) > 0, $"bulkhead '{bulkhead}' shed nothing: " + Measurements.Breakdown(bulkheads, bulkhead));
        Assert.True(started < outcomes.Count, $"all {outcomes.Count} calls started: nothing was shed");
    }

    /// <summary>
    /// A mesh for a storm (gold unlimited: the storm is about deadlines, not rate limits) with the start probe and
    /// <c>settings</c> in the service under test (render or payments), and that service's bulkhead counter.
    /// </summary>
    private sealed class Storm : IAsyncDisposable
    {
        private Storm(InProcessMesh mesh, StartLedger ledger, MetricCollector<long> bulkheadRequests)
        {
            Mesh = mesh;
            Ledger = ledger;
            BulkheadRequests = bulkheadRequests;
        }

        public InProcessMesh Mesh { get; }

        public StartLedger Ledger { get; }

        public MetricCollector<long> BulkheadRequests { get; }

        public static async Task<Storm> StartAsync(bool inRender, Dictionary<string, string?> settings)
        {
            var ledger = new StartLedger();
            var meshSettings = new InProcessMeshSettings().WithUnlimitedGold();
            foreach (var (key, value) in settings)
            {
                (inRender ? meshSettings.Render : meshSettings.Payments)[key] = value;
            }

            if (inRender)
            {
                meshSettings.ConfigureRender = ledger.AddTo;
            }
            else
            {
                meshSettings.ConfigurePayments = ledger.AddTo;
            }

            var mesh = await InProcessMesh.StartAsync(meshSettings);
            return new Storm(mesh, ledger, Measurements.BulkheadRequestsOf(inRender ? mesh.Render : mesh.Payments));
        }

        public async ValueTask DisposeAsync()
        {
            BulkheadRequests.Dispose();
            await Mesh.DisposeAsync();
        }
    }
}
