using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 2: 500 ms of latency on every payments store call (the faults API, target <c>store</c>) under
/// charge, read and report load. Negative control: <c>Mesh:Pitfalls:NoBulkheads</c> everywhere and
/// reporting's circuit breaker off.
/// </summary>
internal sealed class StoreLatencyExperiment : LocalMeshExperiment
{
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PaymentsDeadline = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    /// <summary>The bulkheads' default <c>MaxQueueTime</c> (500 ms) plus a scrape interval: the longest anything may wait in a queue.</summary>
    private static readonly TimeSpan QueueAgeBound = TimeSpan.FromMilliseconds(1500);

    private LoadResult? _load;
    private double _breakerOpened;

    public override string Id => "store-latency";

    public override string Title => "500 ms latency in payments' store";

    public override string Description =>
        "PUT /faults on payments: latency 500 ms at target store for every ledger call. meshload: acme charges and reads at 20/s each and builds 20-account reports at 30/s (deadline 2 s: 600 fan-out reads/s against a read pool that now serves 16/s); "
        + "meshload scrapes both services' bulkheads during the run.";

    public override string Promise =>
        "The pools bound the damage: payments sheds with a reason and pushback, reporting sheds by deadline or by its open circuit instead of piling up, "
        + $"nothing waits in a queue longer than {QueueAgeBound.TotalMilliseconds:0} ms, no call outlives its deadline, and the circuit breaker opens.";

    public override string Protection => "the bulkheads and the breaker (`Mesh:Pitfalls:NoBulkheads=true` everywhere, `Reporting:PaymentsBreaker:Enabled=false`)";

    public override string ClusterAdds => "`k8s/chaos/payments-latency.sh`: the same fault through the faults ConfigMap, waiting until every pod reports its generation.";

    public override string HypothesisTitle => "A slow database is contained: bounded queues, fast shedding, an open breaker";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "PUT /faults: latency 500 ms at store (payments)"),
        ("probe", "the fault is active (meshbulkheads_faults_active)"),
        ("action", "charge + read + report load (meshload)"),
        ("action", "DELETE /faults"),
        ("action", "wait out the circuit's break (3 s + 1 s)"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["DELETE /faults on payments", "stop the mesh"];

    private static readonly string[] SteadyStreams = ["name=reads,key=gold,method=GetBalance,rate=20", "name=reports,key=silver,method=BuildReport,rate=2,accounts=10"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
    [
        new("reads and reports succeed", "meshload thresholds *:ok==100%", Phase.Both, ct => SteadyLoadAsync(context, SteadyStreams, ["*:ok==100%"], ct)),
        new("no call outlived its deadline", $"every call ended within its deadline + {Slack.TotalSeconds:0} s", Phase.After,
            _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_load.Calls.Count > 0 && _load.Calls.All(c => c.LatencyMs <= (DeadlineOf(c.Stream) + Slack).TotalMilliseconds), Round(_load.Calls.Max(c => c.LatencyMs), 1)))),
        new("payments shed with a reason", "charges + reads: rejected > 0, every failure a rejection or the caller's deadline", Phase.After,
            _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_load.Count("charges", "rejected") + _load.Count("reads", "rejected") > 0 && _load.Count("charges", "errors") + _load.Count("reads", "errors") == 0,
                    new JsonObject { ["charges"] = SloCheck.Outcomes(_load, "charges"), ["reads"] = SloCheck.Outcomes(_load, "reads") }))),
        new("reporting shed by deadline or its open circuit", "reports: no errors without a reason; failures are DEADLINE_EXCEEDED or rejections", Phase.After,
            _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_load.Count("reports", "errors") == 0 && _load.Count("reports", "offered") > _load.Count("reports", "ok"), SloCheck.Outcomes(_load, "reports")))),
        new("nothing queued without bound", $"every bulkhead's oldest queued call <= {QueueAgeBound.TotalMilliseconds:0} ms (scraped)", Phase.After,
            Judge(() =>
            {
                var ages = QueueAges();
                return ProbeOutcome.Check(ages.Count > 0 && ages.Values.All(a => a <= QueueAgeBound.TotalSeconds), new JsonObject([.. ages.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]));
            })),
        new("the circuit breaker opened", "reporting: resilience_polly_strategy_events_total{event_name=OnCircuitOpened} > 0", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_breakerOpened > 0, _breakerOpened))),
    ];

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            Reporting = true,
            Configure = host => !context.Unprotected ? new Dictionary<string, string>() : host == "reporting"
                ? new Dictionary<string, string> { ["Mesh:Pitfalls:NoBulkheads"] = "true", ["Reporting:PaymentsBreaker:Enabled"] = "false" }
                : new Dictionary<string, string> { ["Mesh:Pitfalls:NoBulkheads"] = "true" },
        }, postgres: false, cancellationToken);

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        context.OnRollback("DELETE /faults on payments", () => Mesh.AdminAsync("payments-1", HttpMethod.Delete, "/faults", null, CancellationToken.None));
        await context.ActionAsync("PUT /faults: latency 500 ms at store (payments)",
            ct => Mesh.AdminAsync("payments-1", HttpMethod.Put, "/faults", """{"faults":[{"kind":"latency","target":"store","latencyMs":500,"expiresInSeconds":120}]}""", ct),
            body => JsonNode.Parse(body), cancellationToken).ConfigureAwait(false);
        var active = await context.ActionAsync("the fault is active (meshbulkheads_faults_active)",
            async ct => (await Mesh.ScrapeAsync("payments-1", ct).ConfigureAwait(false)).Sum("meshbulkheads_faults_active", ("meshbulkheads_fault_target", "store")),
            v => v, cancellationToken).ConfigureAwait(false);
        if (active < 1)
        {
            throw new ActivityFailedException("the fault is active (meshbulkheads_faults_active)");
        }

        _load = await context.ActionAsync("charge + read + report load (meshload)", ct => Load.RunAsync(Mesh.GatewayAddress,
            [
                "--duration", Duration(Seconds(context, 12, 8)),
                "--stream", $"name=charges,key=gold,method=Charge,rate=20,deadline={Duration(PaymentsDeadline)}",
                "--stream", $"name=reads,key=gold,method=GetBalance,rate=20,deadline={Duration(PaymentsDeadline)}",
                "--stream", $"name=reports,key=gold,method=BuildReport,rate=30,accounts=20,deadline={Duration(ReportDeadline)}",
                "--admin", Mesh.Admin("payments-1").ToString(), "--admin", Mesh.Admin("reporting").ToString(), "--interval", "500ms",
            ], ct), r => new JsonObject { ["charges"] = r.Summary("charges"), ["reads"] = r.Summary("reads"), ["reports"] = r.Summary("reports"), ["bulkheads"] = r.Json["bulkheads"]?.DeepClone() },
            cancellationToken).ConfigureAwait(false);
        _breakerOpened = (await Mesh.ScrapeAsync("reporting", cancellationToken).ConfigureAwait(false)).Sum("resilience_polly_strategy_events_total", ("event_name", "OnCircuitOpened"));
        await context.ActionAsync("DELETE /faults", ct => Mesh.AdminAsync("payments-1", HttpMethod.Delete, "/faults", null, ct), body => JsonNode.Parse(body), cancellationToken).ConfigureAwait(false);
        // An open circuit refuses for its break (Reporting:PaymentsBreaker:BreakDuration, 3 s) and then lets a trial call through.
        await context.ActionAsync("wait out the circuit's break (3 s + 1 s)", ct => Task.Delay(TimeSpan.FromSeconds(4), context.Time, ct), cancellationToken).ConfigureAwait(false);

        foreach (var stream in new[] { "charges", "reads", "reports" })
        {
            context.Measure($"{stream} OK / offered", "calls", null, _load.Count(stream, "ok"), _load.Count(stream, "offered"));
            context.Measure($"{stream} rejected", "calls", null, _load.Count(stream, "rejected"), null);
        }

        foreach (var (name, age) in QueueAges())
        {
            context.Measure($"{name}: oldest queued call", "s", null, age, null);
        }

        context.Measure("circuit opened", "times", null, _breakerOpened, null);
    }

    private static TimeSpan DeadlineOf(string stream) => stream == "reports" ? ReportDeadline : PaymentsDeadline;

    private Dictionary<string, double> QueueAges() =>
        _load?.Json["bulkheads"]?.AsArray().ToDictionary(b => (string)b!["name"]!, b => Math.Round(b!["maxOldestQueueAgeSeconds"]!.GetValue<double>(), 3), StringComparer.Ordinal) ?? [];
}
