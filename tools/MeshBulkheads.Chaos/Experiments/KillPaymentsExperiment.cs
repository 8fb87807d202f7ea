using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 1: SIGKILL one of two payments replicas (PostgreSQL) during sustained charge load, then
/// start it again. Negative control: the gateway's active and passive health checks off.
/// </summary>
internal sealed class KillPaymentsExperiment : LocalMeshExperiment
{
    /// <summary>The chaos configuration's active-probe interval (the chart's is 5 s): the detection bound follows from it.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    /// <summary>Two failed probes (YARP's ConsecutiveFailures default) one interval apart, the probe's 1 s timeout, and 1 s for the scrape.</summary>
    public static readonly TimeSpan EjectionBound = (2 * ProbeInterval) + TimeSpan.FromSeconds(2);

    public static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(5);

    private const int MinimumAcknowledged = 500;
    private const string Stream = "charges";
    private static readonly TimeSpan ChargeDeadline = TimeSpan.FromSeconds(5);

    private LoadResult? _load;
    private TimeSpan? _ejection;
    private TimeSpan? _recovery;
    private DateTimeOffset _killedAt;
    private LedgerAudit? _audit;

    public override string Id => "kill-payments";

    public override string Title => "Kill a payments process during sustained charge load";

    public override string Description =>
        "Two payments replicas on PostgreSQL behind the gateway; meshload charges at 50/s (3 attempts, the same idempotency key on every attempt); "
        + "payments-1 gets SIGKILL, then starts again on the same port.";

    public override string Promise =>
        $"Calls in flight on the killed process fail with UNAVAILABLE and none hangs; the gateway marks it unhealthy within {EjectionBound.TotalSeconds:0} s "
        + $"(2 active probes at the chaos interval of {ProbeInterval.TotalSeconds:0} s); it serves again within {RecoveryBound.TotalSeconds:0} s of reporting ready; "
        + $"every acknowledged charge (≥ {MinimumAcknowledged}) is in the ledger exactly once.";

    public override string Protection => "the gateway's active and passive health checks (`ReverseProxy:Clusters:payments:HealthCheck:*:Enabled=false`)";

    public override string ClusterAdds => "`k8s/chaos/delete-payments-pod.sh`: the Deployment replaces the pod, readiness gates its Endpoints, PostgreSQL is the chart's.";

    public override string? ProvenBy => "Chaos.Tests `LocalExperimentTests.KillPayments_*`";

    public override string HypothesisTitle => "Charges through the gateway succeed, and every acknowledged charge is recorded exactly once";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "charge load (meshload, 50/s, 3 attempts)"),
        ("action", "SIGKILL payments-1"),
        ("probe", "time until the gateway marks payments-1 unavailable"),
        ("action", "start payments-1 again"),
        ("probe", "time until payments-1 serves charges"),
        ("probe", "ledger audit against the acknowledged charges"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh", "stop PostgreSQL"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
    [
        new("charges through the gateway succeed", "meshload thresholds charges:ok==100%", Phase.Both,
            ct => SteadyLoadAsync(context, [$"name={Stream},key=gold,method=Charge,rate=20"], [$"{Stream}:ok==100%"], ct)),
        new("both payments destinations available", "meshbulkheads_gateway_destination_available sum == 2", Phase.Before,
            async ct =>
            {
                var available = Available(await Mesh.ScrapeAsync("gateway", ct).ConfigureAwait(false));
                return ProbeOutcome.Check(available == 2, available);
            }),
        new($"at least {MinimumAcknowledged} charges acknowledged during the fault", $">= {MinimumAcknowledged}", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_audit?.Acknowledged >= MinimumAcknowledged, _audit?.Acknowledged))),
        new("every acknowledged charge is in the ledger exactly once", "missing == 0, duplicated == 0, no half-written account", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_audit?.ExactlyOnce == true, _audit?.ToJson()))),
        new("no call hung", $"every call ended by its deadline ({ChargeDeadline.TotalSeconds:0} s) + 1 s", Phase.After,
            Judge(() =>
            {
                var max = MaxLatency();
                return ProbeOutcome.Check(max <= (ChargeDeadline + TimeSpan.FromSeconds(1)).TotalMilliseconds, Round(max));
            })),
        new("calls that failed on the killed process failed with UNAVAILABLE", "every failed attempt's status is UNAVAILABLE", Phase.After,
            Judge(() =>
            {
                var f = FirstFailures();
                return ProbeOutcome.Check(f.Keys.All(k => k.StartsWith("UNAVAILABLE", StringComparison.Ordinal)), new JsonObject([.. f.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]));
            })),
        new("no call failed once the detection bound had passed", $"calls due from {EjectionBound.TotalSeconds:0} s after the kill: all OK", Phase.After,
            Judge(() =>
            {
                var late = LateFailures();
                return ProbeOutcome.Check(late == 0, late);
            })),
        new("the gateway marked payments-1 unavailable in time", $"<= {EjectionBound.TotalSeconds:0} s after the kill", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_ejection <= EjectionBound, Round(_ejection)))),
        new("payments-1 served charges again in time", $"<= {RecoveryBound.TotalSeconds:0} s after it reported ready", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_recovery <= RecoveryBound, Round(_recovery)))),
    ];

    protected override IReadOnlyList<string> WarmUpStreams => ["name=warm-reads,key=gold,method=GetBalance,rate=20", "name=warm-charges,key=gold,method=Charge,rate=20"];

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var plan = new MeshPlan
        {
            PaymentsReplicas = 2,
            Configure = host => host != "gateway" ? new Dictionary<string, string>() : context.Unprotected
                ? new Dictionary<string, string>
                {
                    ["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false",
                    ["ReverseProxy:Clusters:payments:HealthCheck:Passive:Enabled"] = "false",
                }
                : new Dictionary<string, string>
                {
                    ["ReverseProxy:Clusters:payments:HealthCheck:Active:Interval"] = "00:00:02",
                    ["ReverseProxy:Clusters:payments:HealthCheck:Active:Timeout"] = "00:00:01",
                    // Passive health's ejection (10 s as shipped) ends before the replica is back, so the active
                    // probe alone decides when it serves again: within one interval of reporting ready.
                    ["ReverseProxy:Clusters:payments:HealthCheck:Passive:ReactivationPeriod"] = "00:00:04",
                    ["Gateway:PassiveHealth:DetectionWindowSize"] = "00:00:04",
                },
        };
        return StartMeshAsync(context, plan, postgres: true, cancellationToken);
    }

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var duration = Seconds(context, 16, 14);
        var loadTask = Load.RunAsync(Mesh.GatewayAddress,
            ["--stream", $"name={Stream},key=gold,method=Charge,rate=50,deadline={Duration(ChargeDeadline)}", "--duration", Duration(duration), "--attempts", "3", "--pushback", "honour"],
            cancellationToken);
        context.Log("charge load (meshload, 50/s, 3 attempts) started");
        await Task.Delay(Seconds(context, 3, 2), context.Time, cancellationToken).ConfigureAwait(false);

        await context.ActionAsync("SIGKILL payments-1", async _ =>
        {
            _killedAt = context.Time.GetUtcNow();
            await Mesh["payments-1"].KillAsync().ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        _ejection = await context.ActionAsync("time until the gateway marks payments-1 unavailable",
            ct => UntilAsync(context, async c => Available(await Mesh.ScrapeAsync("gateway", c).ConfigureAwait(false), "d1") == 0, EjectionBound, ct),
            t => Round(t), cancellationToken).ConfigureAwait(false);
        // Restarted as soon as the gateway has marked it (a crashed container restarts at once), or once the bound has passed.

        await context.ActionAsync("start payments-1 again", ct => Mesh.RestartAsync("payments-1", ct), cancellationToken).ConfigureAwait(false);
        _recovery = await context.ActionAsync("time until payments-1 serves charges",
            ct => UntilAsync(context, async c => (await Mesh.ScrapeAsync("payments-1", c).ConfigureAwait(false)).Sum("meshbulkheads_rpc_server_duration_seconds_count", ("rpc_method", "Charge"), ("rpc_grpc_status_code", "OK")) > 0, RecoveryBound + TimeSpan.FromSeconds(3), ct),
            t => Round(t), cancellationToken).ConfigureAwait(false);

        _load = await context.ActionAsync("charge load (meshload, 50/s, 3 attempts)", _ => loadTask, r => r.Summary(Stream), cancellationToken).ConfigureAwait(false);
        _audit = await context.ActionAsync("ledger audit against the acknowledged charges",
            ct => LedgerAudit.RunAsync(Postgres!.ConnectionString(), Tenant, _load.Calls, ct), a => a.ToJson(), cancellationToken).ConfigureAwait(false);

        var calls = _load.Calls;
        context.Measure("charges acknowledged", "calls", null, _audit.Acknowledged, null);
        context.Measure("first attempts not OK", "calls", null, calls.Count(c => c.FirstAttempt != "OK"), null);
        context.Measure("calls not OK after retries", "calls", null, calls.Count(c => c.Status != "OK"), null);
        context.Measure("calls not OK, due after the detection bound", "calls", null, LateFailures(), null);
        context.Measure("time to mark payments-1 unavailable", "s", null, Round(_ejection), null);
        context.Measure("time to serve again after ready", "s", null, null, Round(_recovery));
        context.Measure("charges missing from the ledger", "charges", null, null, _audit.Missing);
        context.Measure("charges duplicated in the ledger", "charges", null, null, _audit.Duplicated);
    }

    private static double Available(MetricsText metrics, string? destination = null) =>
        destination is null
            ? metrics.Sum("meshbulkheads_gateway_destination_available", ("meshbulkheads_cluster", "payments"))
            : metrics.Sum("meshbulkheads_gateway_destination_available", ("meshbulkheads_cluster", "payments"), ("meshbulkheads_destination", destination));

    private int LateFailures() =>
        _load?.Calls.Count(c => c.Status != "OK" && LoadResult.DueOf(c) >= _killedAt + EjectionBound) ?? -1;

    private double MaxLatency() => _load is { Calls.Count: > 0 } load ? load.Calls.Max(c => c.LatencyMs) : double.NaN;

    private Dictionary<string, int> FirstFailures() =>
        _load?.Calls.Where(c => c.FirstAttempt != "OK").GroupBy(c => c.FirstAttempt).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal) ?? [];
}
