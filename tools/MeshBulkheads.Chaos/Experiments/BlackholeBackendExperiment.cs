using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 3: render's destination is a backend that accepts connections and never answers. Calls end
/// at the gateway's deadline, the route's permits come back, and payments, on the same gateway, is
/// unaffected. Negative control: the gateway's render deadline not enforced (Default = Max = 1 h).
/// </summary>
internal sealed class BlackholeBackendExperiment : LocalMeshExperiment
{
    /// <summary>The gateway's longest honoured render deadline in this experiment (the shipped one is 60 s).</summary>
    public static readonly TimeSpan GatewayDeadline = TimeSpan.FromSeconds(1);

    /// <summary>What the client asks for: longer than the gateway honours.</summary>
    public static readonly TimeSpan ClientDeadline = TimeSpan.FromSeconds(5);

    // Latency counts from the call's intended send time, so it includes the load generator's own lag on a busy machine.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);
    private const string RenderPrefix = "/meshbulkheads.render.v1.RenderService/";
    private Blackhole? _blackhole;
    private LoadResult? _load;
    private TimeSpan? _permitsBack;

    public override string Id => "blackhole-backend";

    public override string Title => "A backend that accepts connections and never answers";

    public override string Description =>
        $"Render's destination is a TCP listener that reads and never writes. meshload sends Render at 10/s asking {ClientDeadline.TotalSeconds:0} s, "
        + $"the gateway honours at most {GatewayDeadline.TotalSeconds:0} s; GetBalance at 20/s runs beside it on the same gateway.";

    public override string Promise =>
        $"Calls end at their deadline (the gateway's {GatewayDeadline.TotalSeconds:0} s cap, not the client's {ClientDeadline.TotalSeconds:0} s); the gateway's route permits return to zero; "
        + "its connection pool is not exhausted: payments on the same gateway keeps 100 % OK.";

    public override string Protection => $"the gateway's deadline enforcement for render (`Deadlines:Methods:{RenderPrefix}:Default`/`Max` = 1 h)";

    public override string ClusterAdds => "`k8s/chaos/cut-reporting-payments.sh`: a NetworkPolicy cuts reporting → payments (packets dropped, not refused).";

    public override string? ProvenBy => "Chaos.Tests `LocalExperimentTests.BlackholeBackend_*`";

    public override string HypothesisTitle => "Calls to a silent backend end at the gateway's deadline, and other routes are unaffected";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "render + payments load (meshload)"),
        ("probe", "time until the gateway's render permits are back to zero"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh", "close the blackhole"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
    [
        new("payments reads through the gateway succeed", "meshload thresholds payments:ok==100%", Phase.Before,
            ct => SteadyLoadAsync(context, ["name=payments,key=gold,method=GetBalance,rate=20"], ["payments:ok==100%"], ct)),
        new("every call to the silent backend ended by the gateway's deadline", $"max latency <= {(GatewayDeadline + Slack).TotalMilliseconds:0} ms, none OK", Phase.After,
            _ => Task.FromResult(Silent() is { Count: > 0 } calls
                ? ProbeOutcome.Check(calls.Max(c => c.LatencyMs) <= (GatewayDeadline + Slack).TotalMilliseconds && calls.All(c => c.Status != "OK"),
                    new JsonObject { ["calls"] = calls.Count, ["maxMs"] = Round(calls.Max(c => c.LatencyMs), 1), ["statuses"] = Statuses(calls) })
                : ProbeOutcome.Check(false, "no calls to the silent backend"))),
        new("the gateway's render permits returned to zero", "meshbulkheads_bulkhead_active_requests{gateway-render} == 0 within 2 s of the load's end", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_permitsBack is not null, Round(_permitsBack)))),
        new("payments on the same gateway unaffected", "payments: ok == 100 %, p99 < its 2 s deadline during the fault (no call waited for a connection)", Phase.After,
            _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_load.Count("payments", "offered") > 0 && _load.Count("payments", "ok") == _load.Count("payments", "offered") && _load.Latency("payments", "p99") < 2000, _load.Summary("payments")))),
        new("payments reads through the gateway succeed afterwards", "meshload thresholds payments:ok==100%", Phase.After,
            ct => SteadyLoadAsync(context, ["name=payments,key=gold,method=GetBalance,rate=20"], ["payments:ok==100%"], ct)),
    ];

    public override async Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        _blackhole = new Blackhole();
        var blackhole = _blackhole;
        context.OnRollback("close the blackhole", async () => await blackhole.DisposeAsync().ConfigureAwait(false));
        var deadline = context.Unprotected ? "01:00:00" : "00:00:01";
        var plan = new MeshPlan
        {
            DestinationOverrides = new Dictionary<string, string> { ["render"] = blackhole.Address.ToString() },
            Configure = host => host != "gateway" ? new Dictionary<string, string>() : new Dictionary<string, string>
            {
                [$"Deadlines:Methods:{RenderPrefix}:Default"] = deadline,
                [$"Deadlines:Methods:{RenderPrefix}:Max"] = deadline,
                // The silent destination must stay a destination: no active probe ejects it (passive health would not either: no transport error).
                ["ReverseProxy:Clusters:render:HealthCheck:Active:Enabled"] = "false",
            },
        };
        await StartMeshAsync(context, plan, postgres: false, cancellationToken).ConfigureAwait(false);
    }

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var duration = Seconds(context, 8, 4);
        _load = await context.ActionAsync("render + payments load (meshload)", ct => Load.RunAsync(Mesh.GatewayAddress,
            [
                "--stream", $"name=silent,key=gold,method=Render,rate=10,size=16,iterations=10,deadline={Duration(ClientDeadline)}",
                "--stream", "name=payments,key=gold,method=GetBalance,rate=20",
                "--duration", Duration(duration),
            ], ct), r => new JsonObject { ["silent"] = r.Summary("silent"), ["payments"] = r.Summary("payments") }, cancellationToken).ConfigureAwait(false);
        _permitsBack = await context.ActionAsync("time until the gateway's render permits are back to zero",
            ct => UntilAsync(context, async c => RenderPermits(await Mesh.ScrapeAsync("gateway", c).ConfigureAwait(false)) == 0, TimeSpan.FromSeconds(2), ct),
            t => Round(t), cancellationToken).ConfigureAwait(false);

        var silent = Silent();
        context.Measure("silent-backend calls", "calls", null, silent.Count, null);
        context.Measure("silent-backend max latency", "ms", null, silent.Count == 0 ? null : Round(silent.Max(c => c.LatencyMs), 1), null);
        context.Measure("payments p99", "ms", null, Round(_load.Latency("payments", "p99"), 1), null);
        context.Measure("payments OK", "calls", null, _load.Count("payments", "ok"), null);
        context.Measure("connections the blackhole accepted", "connections", null, _blackhole?.Connections, null);
        context.Measure("time until render permits are zero", "s", null, null, Round(_permitsBack));
    }

    private static double RenderPermits(MetricsText metrics) =>
        metrics.IsEmpty ? double.NaN : metrics.Sum("meshbulkheads_bulkhead_active_requests", ("meshbulkheads_bulkhead", "gateway-render"));

    private List<CallRecord> Silent() => _load?.Calls.Where(c => c.Stream == "silent").ToList() ?? [];

    private static JsonObject Statuses(IEnumerable<CallRecord> calls) =>
        new([.. calls.GroupBy(c => c.Reason is null ? c.Status : $"{c.Status}/{c.Reason}").Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))]);
}
