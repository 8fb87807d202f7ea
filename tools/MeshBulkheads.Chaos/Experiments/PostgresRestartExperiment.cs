using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 6: PostgreSQL is killed (SIGKILL to the postmaster) under charge and read load and started
/// again 3 s later. Negative control: payments' idle-connection validation off
/// (<c>Payments:Database:ValidateIdleAfter</c> = 1 h), so pooled connections to the dead server are handed out.
/// </summary>
internal sealed class PostgresRestartExperiment : LocalMeshExperiment
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(3);

    /// <summary>payments' <c>MaxPoolWait</c> (2 s) plus scheduling slack: how long a failing call may take.</summary>
    private static readonly TimeSpan FailFastBound = TimeSpan.FromSeconds(3);

    private LoadResult? _load;
    private LoadResult? _readsAfter;
    private LedgerAudit? _audit;
    private DateTimeOffset _killedAt;
    private DateTimeOffset _backAt;
    private int _paymentsPid;

    public override string Id => "kill-postgres";

    public override string Title => "PostgreSQL killed and restarted";

    public override string Description =>
        $"One payments process on PostgreSQL; meshload charges at 30/s throughout and reads at 30/s until the kill (one attempt each); the postmaster gets SIGKILL and starts again {Outage.TotalSeconds:0} s later on the same data; "
        + "then reads resume on the read pool's connections, idle since before the kill.";

    public override string Promise =>
        $"While the database is down, charges fail fast with UNAVAILABLE (within payments' pool wait, never at the caller's deadline); nothing is half-written; "
        + $"from {RecoveryBound.TotalSeconds:0} s after PostgreSQL is back every charge succeeds again, and reads on connections that were idle through the outage succeed at once, without restarting payments.";

    public override string Protection => "payments' validation of idle pooled connections (`Payments:Database:ValidateIdleAfter` = 1 h)";

    public override string ClusterAdds => "`k8s/chaos/kill-postgres.sh`: the database pod is deleted and its StatefulSet brings it back on the same volume.";

    public override string HypothesisTitle => "Database outages fail fast, leave nothing half-written, and heal without a payments restart";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "charge load (meshload, 14 s) and reads until the kill"),
        ("action", "SIGKILL PostgreSQL"),
        ("action", "start PostgreSQL again"),
        ("action", "reads again (meshload, 4 s)"),
        ("probe", "ledger audit against the acknowledged charges"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh", "stop PostgreSQL"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
    [
        new("charges and reads succeed", "meshload thresholds *:ok==100%", Phase.Both,
            ct => SteadyLoadAsync(context, ["name=charges,key=gold,method=Charge,rate=20", "name=reads,key=gold,method=GetBalance,rate=20"], ["*:ok==100%"], ct)),
        new("calls failed fast with UNAVAILABLE while the database was down", $"every failed call: UNAVAILABLE, within {FailFastBound.TotalSeconds:0} s", Phase.After,
            Judge(() =>
            {
                var failed = Failed();
                return ProbeOutcome.Check(failed.Count > 0 && failed.All(c => c.Status == "UNAVAILABLE" && c.LatencyMs <= FailFastBound.TotalMilliseconds),
                    new JsonObject { ["failed"] = failed.Count, ["maxMs"] = failed.Count == 0 ? null : Round(failed.Max(c => c.LatencyMs), 1), ["statuses"] = Statuses(failed) });
            })),
        new("nothing half-written", "acknowledged charges exactly once, every balance equals its payments", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_audit?.ExactlyOnce == true, _audit?.ToJson()))),
        new("every call succeeded once the database was back", $"calls due from {RecoveryBound.TotalSeconds:0} s after PostgreSQL was back: all OK", Phase.After,
            Judge(() =>
            {
                var late = LateFailures();
                return ProbeOutcome.Check(late.Count == 0, new JsonObject { ["failed"] = late.Count, ["statuses"] = Statuses(late) });
            })),
        new("reads resumed cleanly on the idle pool", "every read after the database was back: OK", Phase.After,
            _ => Task.FromResult(_readsAfter is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_readsAfter.Count("reads-after", "offered") > 0 && _readsAfter.Count("reads-after", "ok") == _readsAfter.Count("reads-after", "offered"), _readsAfter.Summary("reads-after")))),
        new("payments was not restarted", "same process id before and after", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(Mesh["payments-1"].IsRunning && Mesh["payments-1"].ProcessId == _paymentsPid, Mesh["payments-1"].ProcessId))),
    ];

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            Configure = host => host.StartsWith("payments", StringComparison.Ordinal) && context.Unprotected
                ? new Dictionary<string, string> { ["Payments:Database:ValidateIdleAfter"] = "01:00:00" }
                : new Dictionary<string, string>(),
        }, postgres: true, cancellationToken);

    protected override IReadOnlyList<string> WarmUpStreams => ["name=warm-reads,key=gold,method=GetBalance,rate=20", "name=warm-charges,key=gold,method=Charge,rate=20"];

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        _paymentsPid = Mesh["payments-1"].ProcessId;
        var loadTask = Load.RunAsync(Mesh.GatewayAddress, ["--stream", "name=charges,key=gold,method=Charge,rate=30,deadline=5s", "--duration", "14s"], cancellationToken);
        // Reads until the kill: the read pool's connections then sit idle through the outage.
        var readsBefore = Load.RunAsync(Mesh.GatewayAddress, ["--stream", "name=reads,key=gold,method=GetBalance,rate=30,deadline=5s", "--duration", "3s"], cancellationToken);
        await readsBefore.ConfigureAwait(false);
        await context.ActionAsync("SIGKILL PostgreSQL", async ct =>
        {
            _killedAt = context.Time.GetUtcNow();
            await Postgres!.KillAsync(ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        await Task.Delay(Outage, context.Time, cancellationToken).ConfigureAwait(false);
        await context.ActionAsync("start PostgreSQL again", async ct =>
        {
            await Postgres!.StartServerAsync(ct).ConfigureAwait(false);
            _backAt = context.Time.GetUtcNow();
        }, cancellationToken).ConfigureAwait(false);
        _readsAfter = await context.ActionAsync("reads again (meshload, 4 s)",
            ct => Load.RunAsync(Mesh.GatewayAddress, ["--stream", "name=reads-after,key=gold,method=GetBalance,rate=30,deadline=5s", "--duration", "4s"], ct),
            r => r.Summary("reads-after"), cancellationToken).ConfigureAwait(false);
        _load = await context.ActionAsync("charge load (meshload)", _ => loadTask, r => r.Summary("charges"), cancellationToken).ConfigureAwait(false);
        _audit = await context.ActionAsync("ledger audit against the acknowledged charges",
            ct => LedgerAudit.RunAsync(Postgres!.ConnectionString(), Tenant, _load.Calls, ct), a => a.ToJson(), cancellationToken).ConfigureAwait(false);

        var failed = Failed();
        context.Measure("calls failed", "calls", null, failed.Count, LateFailures().Count);
        context.Measure("reads failed after the database was back", "calls", null, null, _readsAfter.Count("reads-after", "offered") - _readsAfter.Count("reads-after", "ok"));
        context.Measure("slowest failed call", "ms", null, failed.Count == 0 ? null : Round(failed.Max(c => c.LatencyMs), 1), null);
        context.Measure("PostgreSQL down", "s", null, Round((_backAt - _killedAt).TotalSeconds), null);
        context.Measure("charges acknowledged", "calls", null, _audit.Acknowledged, null);
        context.Measure("charges missing / duplicated", "charges", null, null, _audit.Missing + _audit.Duplicated);
    }

    private List<CallRecord> Failed() => _load?.Calls.Where(c => c.Status != "OK").ToList() ?? [];

    private List<CallRecord> LateFailures() =>
        _load?.Calls.Where(c => c.Status != "OK" && LoadResult.DueOf(c) >= _backAt + RecoveryBound).ToList() ?? [];

    private static JsonObject Statuses(IEnumerable<CallRecord> calls) =>
        new([.. calls.GroupBy(c => c.Reason is null ? c.Status : $"{c.Status}/{c.Reason}").Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))]);
}
