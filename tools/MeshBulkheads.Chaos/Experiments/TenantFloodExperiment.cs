using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 8: globex (silver) floods reporting with 50-account reports while acme (gold) charges and
/// reads and initech (bronze) reads. Negative control: <c>Mesh:Pitfalls:NoBulkheads</c> in every process
/// (tenant rate limits off, bulkheads unbounded).
/// </summary>
internal sealed class TenantFloodExperiment : LocalMeshExperiment
{
    private static readonly string[] Quiet = ["acme-charges", "acme-reads", "initech-reads"];
    private LoadResult? _flood;

    public override string Id => "tenant-flood";

    public override string Title => "One tenant floods reporting";

    public override string Description =>
        "globex (silver) sends BuildReport with 50 accounts at 60/s — far over its tier — while acme charges and reads at 20/s each and initech reads at 2/s.";

    public override string Promise => "The other tenants stay within slo.yaml (success ratio and p99, measured at the client); the flood is shed with reasons and pushback.";

    public override string Protection => "every admission bound (`Mesh:Pitfalls:NoBulkheads=true` in all four processes: no tenant rate limits, unbounded bulkheads)";

    public override string ClusterAdds => "`k8s/chaos/tenant-flood-reporting.sh`: the flood runs as an in-cluster meshload Job; the HPA may add reporting pods.";

    public override string HypothesisTitle => "A flooding tenant is shed; the other tenants keep their SLOs";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline => [("action", "quiet tenants + globex flood (meshload)")];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh"];

    private static readonly string[] QuietStreams =
    [
        "name=acme-charges,key=gold,method=Charge,rate=20",
        "name=acme-reads,key=gold,method=GetBalance,rate=20",
        "name=initech-reads,key=bronze,method=GetBalance,rate=2",
    ];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context)
    {
        var judged = SloCheck.ForStreams(SloFile.Load(context.Settings.Root), Quiet);
        var probes = new List<HypothesisProbe>
        {
            new("quiet tenants within their SLOs without the flood", SloCheck.Tolerance(judged), Phase.Before, ct => SteadySloAsync(context, QuietStreams, judged, ct)),
        };
        foreach (var (stream, slo) in judged)
        {
            probes.Add(new($"{stream} within its SLO during the flood", SloCheck.Tolerance(slo), Phase.After, _ => Task.FromResult(SloCheck.Evaluate(_flood, stream, slo))));
        }

        probes.Add(new("the flood was shed with reasons", "globex: rejected > 0", Phase.After,
            _ => Task.FromResult(_flood is null ? ProbeOutcome.Check(false, null) : ProbeOutcome.Check(_flood.Count("globex-flood", "rejected") > 0, SloCheck.Outcomes(_flood, "globex-flood")))));
        return probes;
    }

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            Reporting = true,
            Render = true,
            Configure = _ => context.Unprotected ? new Dictionary<string, string> { ["Mesh:Pitfalls:NoBulkheads"] = "true" } : new Dictionary<string, string>(),
        }, postgres: false, cancellationToken);

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "--duration", Duration(Seconds(context, 12, 8)), "--stream", "name=globex-flood,key=silver,method=BuildReport,rate=60,accounts=50,start=2s" };
        foreach (var stream in QuietStreams)
        {
            arguments.AddRange(["--stream", stream]);
        }

        _flood = await context.ActionAsync("quiet tenants + globex flood (meshload)", ct => Load.RunAsync(Mesh.GatewayAddress, arguments, ct),
            r => new JsonObject([.. r.Json["streams"]!.AsArray().Select(s => KeyValuePair.Create((string)s!["name"]!, (JsonNode?)r.Summary((string)s["name"]!)))]), cancellationToken).ConfigureAwait(false);
        foreach (var stream in Quiet)
        {
            context.Measure($"{stream} p99 during the flood", "ms", null, P99(_flood, stream), null);
        }

        context.Measure("globex flood OK", "calls", null, _flood.Count("globex-flood", "ok"), null);
        context.Measure("globex flood rejected", "calls", null, _flood.Count("globex-flood", "rejected"), null);
    }

    private static double P99(LoadResult load, string stream) =>
        Round(SloCheck.Percentile([.. SloCheck.Measured(load, stream).Where(c => c.Status == "OK").Select(c => c.LatencyMs).Order()], 0.99), 1);
}
