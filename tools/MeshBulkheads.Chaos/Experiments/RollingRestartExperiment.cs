using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 5: a rolling restart of two payments replicas under charge load — the local equivalent of
/// <c>helm upgrade</c>: each replica in turn is asked to stop (SIGTERM), drains while not ready, exits, starts
/// again and serves before the next one goes. Negative control: each replica is killed instead (SIGKILL, no drain).
/// </summary>
internal sealed class RollingRestartExperiment : LocalMeshExperiment
{
    /// <summary>
    /// The local stand-in for the chart's <c>preStop</c> sleep (35 s there, for DNS caches): not ready this long
    /// before Kestrel stops — two failed active probes at the chaos interval of 2 s plus the probe timeout.
    /// </summary>
    private static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(6);

    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(28);

    /// <summary>The chart's <c>shutdown.hostShutdownTimeoutSeconds</c> and <c>terminationGracePeriodSeconds</c>.</summary>
    private static readonly TimeSpan HostShutdownTimeout = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(65);

    private LoadResult? _load;
    private LedgerAudit? _audit;
    private SloFile? _slos;

    public override string Id => "rolling-restart";

    public override string Title => "Rolling restart of payments under load";

    public override string Description =>
        $"Two payments replicas on PostgreSQL; meshload charges at 40/s, one attempt each. Each replica in turn: SIGTERM (not ready for {DrainDelay.TotalSeconds:0} s, then a drain of up to "
        + $"{HostShutdownTimeout.TotalSeconds:0} s, killed after {TerminationGrace.TotalSeconds:0} s as the chart's grace period would), start again, wait until the gateway routes to it.";

    public override string Promise => "No acknowledged charge is lost, every call is answered with a status, and charges stay within slo.yaml's success ratio without client retries.";

    public override string Protection => "graceful shutdown (each replica gets SIGKILL instead of SIGTERM and a drain)";

    public override string ClusterAdds => "`k8s/chaos/helm-upgrade.sh`: a real `helm upgrade` with the chart's preStop sleep, readiness gates and PodDisruptionBudget, checked against the database.";

    public override string HypothesisTitle => "A rolling restart loses nothing and fails (almost) nothing";

    public override TimeSpan TimeLimit => TimeSpan.FromMinutes(4);

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "charge load (meshload, 40/s, 1 attempt)"),
        ("action", "restart payments-1 (SIGTERM, drain, start, routed)"),
        ("action", "restart payments-2 (SIGTERM, drain, start, routed)"),
        ("probe", "ledger audit against the acknowledged charges"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh", "stop PostgreSQL"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context)
    {
        _slos = SloFile.Load(context.Settings.Root);
        var charge = _slos.For("Charge");
        return
        [
            new("charges succeed", "meshload thresholds charges:ok==100%", Phase.Both, ct => SteadyLoadAsync(context, ["name=charges,key=gold,method=Charge,rate=20"], ["charges:ok==100%"], ct)),
            new("charges within the success ratio during the restart", $"ok >= {charge.SuccessRatio:P1} of offered (slo.yaml {charge.Name})", Phase.After,
                _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                    : ProbeOutcome.Check(_load.Count("charges", "ok") >= charge.SuccessRatio * _load.Count("charges", "offered"), SloCheck.Outcomes(_load, "charges")))),
            new("every call answered with a status", "every call ended within its deadline (5 s) + 1 s", Phase.After,
                _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null) : ProbeOutcome.Check(_load.Calls.All(c => c.LatencyMs <= 6000), Round(_load.Calls.Max(c => c.LatencyMs), 1)))),
            new("no acknowledged charge lost", "missing == 0, duplicated == 0, no half-written account", Phase.After,
                _ => Task.FromResult(ProbeOutcome.Check(_audit?.ExactlyOnce == true, _audit?.ToJson()))),
        ];
    }

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            PaymentsReplicas = 2,
            Configure = host => host == "gateway"
                ? new Dictionary<string, string>
                {
                    ["ReverseProxy:Clusters:payments:HealthCheck:Active:Interval"] = "00:00:02",
                    ["ReverseProxy:Clusters:payments:HealthCheck:Active:Timeout"] = "00:00:01",
                }
                : new Dictionary<string, string>
                {
                    ["Mesh:ShutdownDelay"] = $"00:00:{DrainDelay.TotalSeconds:00}",
                    ["HostOptions:ShutdownTimeout"] = $"00:00:{HostShutdownTimeout.TotalSeconds:00}",
                },
        }, postgres: true, cancellationToken);

    protected override IReadOnlyList<string> WarmUpStreams => ["name=warm-charges,key=gold,method=Charge,rate=20"];

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        // The rollout took 19–21 s here (2 s, then per replica the 6 s drain, its start and the gateway routing to it);
        // the load covers it with ≥ 7 s to spare, and a rollout that outlasts the load fails the run instead of
        // judging a restart no call saw.
        var loadTask = Load.RunAsync(Mesh.GatewayAddress, ["--stream", "name=charges,key=gold,method=Charge,rate=40,deadline=5s", "--duration", Duration(LoadDuration)], cancellationToken);
        context.Log("charge load (meshload, 40/s, 1 attempt) started");
        await Task.Delay(TimeSpan.FromSeconds(2), context.Time, cancellationToken).ConfigureAwait(false);
        foreach (var replica in Mesh.PaymentsNames)
        {
            await context.ActionAsync($"restart {replica} ({(context.Unprotected ? "SIGKILL" : "SIGTERM, drain")}, start, routed)", async ct =>
            {
                if (context.Unprotected)
                {
                    await Mesh[replica].KillAsync().ConfigureAwait(false);
                }
                else
                {
                    await Mesh[replica].StopAsync(TerminationGrace).ConfigureAwait(false);
                }

                await Mesh.RestartAsync(replica, ct).ConfigureAwait(false);
                var destination = "d" + replica[(replica.LastIndexOf('-') + 1)..];
                var routed = await UntilAsync(context, async c => (await Mesh.ScrapeAsync("gateway", c).ConfigureAwait(false))
                    .Sum("meshbulkheads_gateway_destination_available", ("meshbulkheads_cluster", "payments"), ("meshbulkheads_destination", destination)) == 1, TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
                return routed is null ? throw new TimeoutException($"the gateway did not route to {replica} within 15 s of it being ready") : Round(routed);
            }, s => s, cancellationToken).ConfigureAwait(false);
        }

        if (loadTask.IsCompleted)
        {
            throw new ActivityFailedException($"the charge load ({LoadDuration.TotalSeconds:0} s) ended before the rollout did: no call saw its end");
        }

        _load = await context.ActionAsync("charge load (meshload, 40/s, 1 attempt)", _ => loadTask, r => r.Summary("charges"), cancellationToken).ConfigureAwait(false);
        _audit = await context.ActionAsync("ledger audit against the acknowledged charges",
            ct => LedgerAudit.RunAsync(Postgres!.ConnectionString(), Tenant, _load.Calls, ct), a => a.ToJson(), cancellationToken).ConfigureAwait(false);
        context.Measure("charges OK / offered", "calls", null, _load.Count("charges", "ok"), _load.Count("charges", "offered"));
        context.Measure("charges not OK", "calls", null, _load.Calls.Count(c => c.Status != "OK"), null);
        context.Measure("slowest call", "ms", null, Round(_load.Calls.Max(c => c.LatencyMs), 1), null);
        context.Measure("charges missing / duplicated", "charges", null, null, _audit.Missing + _audit.Duplicated);
    }
}
