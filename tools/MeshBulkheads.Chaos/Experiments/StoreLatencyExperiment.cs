using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 2: 500 ms of latency on every payments store call (the faults API, target <c>store</c>) under
/// charge, read and report load. Negative control: <c>Mesh:Pitfalls:NoBulkheads</c> everywhere and both of
/// reporting's circuit breakers off.
/// </summary>
/// <remarks>
/// A 20-account report at 4 in parallel needs 5 × 500 ms = 2.5 s of reads, more than its 2 s deadline: no report can
/// complete during the fault. Most payments attempts still succeed, so the payments breaker (per attempt) need not open;
/// the report breaker (per report) must, or reporting keeps spending payments' reads on reports that fail anyway —
/// the waste the probe "reporting stopped spending payments on reports that cannot complete" measures.
/// </remarks>
internal sealed class StoreLatencyExperiment : LocalMeshExperiment
{
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PaymentsDeadline = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);
    private const int ReportAccounts = 20;

    /// <summary>The bulkheads' default <c>MaxQueueTime</c> (500 ms) plus a scrape interval: the longest anything may wait in a queue.</summary>
    private static readonly TimeSpan QueueAgeBound = TimeSpan.FromMilliseconds(1500);

    /// <summary>When no breaker opened (the negative control), the waste is measured from this far into the load.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    /// <summary>The shortest window the waste is judged over: a breaker that opened later than this before the end is too late.</summary>
    private static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(3);

    /// <summary>How often reporting's metrics are scraped during the load (to see when a breaker opened).</summary>
    private static readonly TimeSpan ScrapeInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The report breaker's break (<c>Reporting:ReportBreaker:BreakDuration</c>): with it open, reporting lets one trial report
    /// through per break, and a trial may spend all of its <see cref="ReportAccounts"/> reads before it fails.
    /// </summary>
    private static readonly TimeSpan ReportBreak = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The most payments reads reporting may spend on reports that fail over a judged window, from one report deadline after
    /// a breaker opened (by then every report admitted before it opened has ended): one whole trial report per break, plus
    /// one for the window's edge. (A bound of 5 reads/s, from 4 workers × 4 reads per cycle, was too tight: a trial can use
    /// all 20 reads; a run measured 4.6/s.) Before the report breaker it was ≈ 19 reads/s, unprotected ≈ 300/s.
    /// </summary>
    private static double WasteBound(double seconds) => ReportAccounts * (Math.Ceiling(seconds / ReportBreak.TotalSeconds) + 1);

    /// <summary>The two breakers' Polly strategy names (reporting's PaymentsCircuitBreaker and ReportCircuitBreaker).</summary>
    private static readonly string[] BreakerStrategies = ["payments-circuit-breaker", "report-circuit-breaker"];

    private const string ClientCalls = "meshbulkheads_rpc_client_duration_seconds_count";

    private LoadResult? _load;
    private Dictionary<string, double> _breakerOpened = [];
    private Waste? _settledWaste;
    private Waste? _wholeFault;
    private double? _firstOpenedAfter;

    public override string Id => "store-latency";

    public override string Title => "500 ms latency in payments' store";

    public override string Description =>
        "PUT /faults on payments: latency 500 ms at target store for every ledger call. meshload: acme charges and reads at 20/s each and builds 20-account reports at 30/s (deadline 2 s: 600 fan-out reads/s against a read pool of 16 permits that now serves ≈ 32/s); "
        + "meshload scrapes both services' bulkheads during the run.";

    public override string Promise =>
        "The pools bound the damage: payments sheds with a reason and pushback, reporting sheds by deadline or by an open circuit instead of piling up, "
        + $"nothing waits in a queue longer than {QueueAgeBound.TotalMilliseconds:0} ms, no call outlives its deadline, a circuit breaker opens (the payments client's or the report breaker), "
        + $"and once settled reporting spends at most one {ReportAccounts}-account trial report's reads per {ReportBreak.TotalSeconds:0} s break on reports that cannot complete.";

    public override string Protection => "the bulkheads and both breakers (`Mesh:Pitfalls:NoBulkheads=true` everywhere, `Reporting:PaymentsBreaker:Enabled=false`, `Reporting:ReportBreaker:Enabled=false`)";

    public override string ClusterAdds => "`k8s/chaos/payments-latency.sh`: the same fault through the faults ConfigMap, waiting until every pod reports its generation.";

    public override string HypothesisTitle => "A slow database is contained: bounded queues, fast shedding, an open breaker, no reads wasted on doomed reports";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "PUT /faults: latency 500 ms at store (payments)"),
        ("probe", "the fault is active (meshbulkheads_faults_active)"),
        ("action", "charge + read + report load (meshload)"),
        ("probe", "payments reads served to reporting and breakers opened (reporting's metrics, scraped every 250 ms during the load)"),
        ("action", "DELETE /faults"),
        ("action", "wait out a trial report and the breakers' breaks (2 s + 3 s + 3 s + 1 s)"),
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
        new("the circuit breaker opened", "reporting: resilience_polly_strategy_events_total{event_name=OnCircuitOpened,strategy_name=payments-circuit-breaker|report-circuit-breaker} > 0", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_breakerOpened.Values.Sum() > 0, new JsonObject([.. _breakerOpened.Select(b => KeyValuePair.Create(b.Key, (JsonNode?)b.Value))])))),
        new("reporting stopped spending payments on reports that cannot complete",
            $"from one report deadline ({ReportDeadline.TotalSeconds:0} s) after a breaker opened to the load's end (>= {MinimumWindow.TotalSeconds:0} s; no breaker: from {Settle.TotalSeconds:0} s into the load): "
            + $"payments reads served to reporting beyond those of completed reports <= {ReportAccounts} × (⌈window ÷ {ReportBreak.TotalSeconds:0} s⌉ + 1)", Phase.After,
            _ => Task.FromResult(_settledWaste is not { } w ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(w.Seconds >= MinimumWindow.TotalSeconds && w.Wasted <= WasteBound(w.Seconds), w.ToJson()))),
    ];

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            Reporting = true,
            Configure = host => !context.Unprotected ? new Dictionary<string, string>() : host == "reporting"
                ? new Dictionary<string, string> { ["Mesh:Pitfalls:NoBulkheads"] = "true", ["Reporting:PaymentsBreaker:Enabled"] = "false", ["Reporting:ReportBreaker:Enabled"] = "false" }
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

        // Reads served to reporting: reporting's own client metrics (meshload's direct reads never pass through it), scraped
        // with the breakers' events while the load runs, to judge the waste from the moment a breaker could have stopped it.
        var samples = new List<Sample> { await SampleAsync(context, cancellationToken).ConfigureAwait(false) };
        var loading = context.ActionAsync("charge + read + report load (meshload)", ct => Load.RunAsync(Mesh.GatewayAddress,
            [
                "--duration", Duration(Seconds(context, 12, 8)),
                "--stream", $"name=charges,key=gold,method=Charge,rate=20,deadline={Duration(PaymentsDeadline)}",
                "--stream", $"name=reads,key=gold,method=GetBalance,rate=20,deadline={Duration(PaymentsDeadline)}",
                "--stream", $"name=reports,key=gold,method=BuildReport,rate=30,accounts={ReportAccounts},deadline={Duration(ReportDeadline)}",
                "--admin", Mesh.Admin("payments-1").ToString(), "--admin", Mesh.Admin("reporting").ToString(), "--interval", "500ms",
            ], ct), r => new JsonObject { ["charges"] = r.Summary("charges"), ["reads"] = r.Summary("reads"), ["reports"] = r.Summary("reports"), ["bulkheads"] = r.Json["bulkheads"]?.DeepClone() },
            cancellationToken);
        while (!loading.IsCompleted)
        {
            await Task.WhenAny(loading, Task.Delay(ScrapeInterval, context.Time, cancellationToken)).ConfigureAwait(false);
            samples.Add(await SampleAsync(context, cancellationToken).ConfigureAwait(false));
        }

        _load = await loading.ConfigureAwait(false);
        var first = samples[0];
        var end = samples[^1];
        _breakerOpened = end.Opened;
        var opened = samples.FirstOrDefault(x => x.Opened.Values.Sum() > 0);
        var from = opened is not null ? opened.At + ReportDeadline : first.At + Settle;
        var windowStart = samples.FirstOrDefault(x => x.At >= from) ?? end;
        _settledWaste = Waste.Between(_load, windowStart, end);
        _wholeFault = Waste.Between(_load, first, end);
        _firstOpenedAfter = opened is null ? null : (opened.At - first.At).TotalSeconds;
        context.Journal.Run.Add(new ActivityRun("probe", "payments reads served to reporting and breakers opened (reporting's metrics, scraped every 250 ms during the load)", null, true,
            new JsonObject
            {
                ["scrapes"] = samples.Count,
                ["firstOpenedAfterSeconds"] = _firstOpenedAfter is { } after ? Math.Round(after, 2) : null,
                ["wholeFault"] = _wholeFault.ToJson(),
                ["judged"] = _settledWaste.ToJson(),
            }, null, first.At, end.At));
        await context.ActionAsync("DELETE /faults", ct => Mesh.AdminAsync("payments-1", HttpMethod.Delete, "/faults", null, ct), body => JsonNode.Parse(body), cancellationToken).ConfigureAwait(false);
        // An open circuit refuses for its break (Reporting:PaymentsBreaker:BreakDuration and Reporting:ReportBreaker:BreakDuration,
        // 3 s each) and then lets a trial through. A trial report started just before the fault was cleared can still fail
        // (its 2 s deadline) and open the report breaker for one more break, and a trial that meets the payments breaker
        // still open for one more after that.
        await context.ActionAsync("wait out a trial report and the breakers' breaks (2 s + 3 s + 3 s + 1 s)", ct => Task.Delay(TimeSpan.FromSeconds(9), context.Time, ct), cancellationToken).ConfigureAwait(false);

        foreach (var stream in new[] { "charges", "reads", "reports" })
        {
            context.Measure($"{stream} OK / offered", "calls", null, _load.Count(stream, "ok"), _load.Count(stream, "offered"));
            context.Measure($"{stream} rejected", "calls", null, _load.Count(stream, "rejected"), null);
        }

        foreach (var (name, age) in QueueAges())
        {
            context.Measure($"{name}: oldest queued call", "s", null, age, null);
        }

        foreach (var (strategy, times) in _breakerOpened)
        {
            context.Measure($"circuit opened ({strategy})", "times", null, times, null);
        }

        context.Measure("a circuit breaker first opened after", "s", null, _firstOpenedAfter is { } openedAfter ? Round(openedAfter, 2) : null, null);
        context.Measure("payments reads served to reporting, whole load", "reads", null, _wholeFault.Served, null);
        context.Measure("of which for reports that failed, whole load", "reads", null, _wholeFault.Wasted, null);
        context.Measure("reads for reports that failed, judged window", "reads/s", null, Round(_settledWaste.WastedPerSecond, 1), null);
    }

    private async Task<Sample> SampleAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var scrape = await Mesh.ScrapeAsync("reporting", cancellationToken).ConfigureAwait(false);
        return new Sample(
            context.Time.GetUtcNow(),
            scrape.Sum(ClientCalls, ("rpc_method", "GetBalance"), ("rpc_grpc_status_code", "OK")),
            BreakerStrategies.ToDictionary(b => b, b => scrape.Sum("resilience_polly_strategy_events_total", ("event_name", "OnCircuitOpened"), ("strategy_name", b)), StringComparer.Ordinal));
    }

    /// <summary>One scrape of reporting: when, payments reads served to it so far (OK GetBalance calls of its client), and each breaker's openings.</summary>
    private sealed record Sample(DateTimeOffset At, double Served, Dictionary<string, double> Opened);

    /// <summary>
    /// Payments reads served to reporting between two scrapes (its client's OK GetBalance calls), and how many of them went
    /// into reports that failed: all but <see cref="ReportAccounts"/> per report that completed OK in that time.
    /// </summary>
    private sealed record Waste(double Seconds, double Served, long ReportsOk)
    {
        public double Wasted => Math.Max(0, Served - (ReportsOk * ReportAccounts));

        public double WastedPerSecond => Seconds > 0 ? Wasted / Seconds : 0;

        public static Waste Between(LoadResult load, Sample from, Sample to) =>
            new((to.At - from.At).TotalSeconds, to.Served - from.Served,
                load.Calls.LongCount(c => c.Stream == "reports" && c.Status == "OK" && LoadResult.EndOf(c) > from.At && LoadResult.EndOf(c) <= to.At));

        public JsonObject ToJson() => new()
        {
            ["seconds"] = Math.Round(Seconds, 1),
            ["served"] = Served,
            ["reportsOk"] = ReportsOk,
            ["wasted"] = Wasted,
            ["wastedPerSecond"] = Math.Round(WastedPerSecond, 1),
            ["bound"] = WasteBound(Seconds),
        };
    }

    private static TimeSpan DeadlineOf(string stream) => stream == "reports" ? ReportDeadline : PaymentsDeadline;

    private Dictionary<string, double> QueueAges() =>
        _load?.Json["bulkheads"]?.AsArray().ToDictionary(b => (string)b!["name"]!, b => Math.Round(b!["maxOldestQueueAgeSeconds"]!.GetValue<double>(), 3), StringComparer.Ordinal) ?? [];
}
