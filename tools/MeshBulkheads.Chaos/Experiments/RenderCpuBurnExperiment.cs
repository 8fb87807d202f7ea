using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 7: render burns CPU (heavy renders far over what its workers sustain, from two tenants) while
/// acme charges and reads. Render is pinned to one core as a 1-CPU limit would bound it; the other hosts and
/// meshload stay unpinned, as a CPU limit on render does not confine the other pods (pinning them to the other core
/// halved the quiet routes' capacity, so a noisy core failed the protected run — stop 23). The steady state before the
/// burn checks the same SLOs as the verdict, so a machine too noisy to meet them with nothing burning aborts the run
/// instead of deciding it. Negative control: every bound on render's CPU off — unpinned, 32 render workers
/// (oversubscribing 2 cores) at normal priority, its bulkheads and the gateway's at the pitfall's limits (so the
/// gateway's render route admits every render too) and its per-tenant work budget off — as a pod without a CPU limit,
/// with a worker pool not sized from it and without its admission would run. (Weaker controls did not deviate
/// reliably: unpinned alone, and rendering inline on the thread pool with or without the gateway's render route
/// bounded (stop 25: acme p99 82/46 ms), held the SLOs on a quiet machine — the kernel shares the cores fairly between runnable threads, so the burn has to
/// outnumber the other routes' threads to starve them. With 32 workers, stop 25: acme p99 428/328 ms.)
/// </summary>
internal sealed class RenderCpuBurnExperiment : LocalMeshExperiment
{
    private static readonly string[] Quiet = ["acme-charges", "acme-reads"];
    private static readonly string[] QuietStreams =
    [
        "name=acme-charges,key=gold,method=Charge,rate=20",
        "name=acme-reads,key=gold,method=GetBalance,rate=20",
    ];

    private LoadResult? _burn;

    public override string Id => "render-cpu-burn";

    public override string Title => "CPU burn in render";

    public override string Description =>
        "acme and globex send heavy renders (512×512, 2000 iterations, 19/s in all, within their rate limits) far over render's capacity while acme charges and reads at 20/s each; "
        + "render is pinned to CPU 1 (its limit); the other hosts and meshload are not pinned.";

    public override string Promise => "Payments' routes stay within slo.yaml; render sheds what its workers cannot take.";

    public override string Protection => "render's CPU bound: pinned to one core like its CPU limit, workers sized from it at below-normal priority and bounded by its bulkheads, the gateway's render route and its per-tenant work budget (unprotected: unpinned, `Render:WorkerCount=32`, `Render:BelowNormalPriority=false`, `Mesh:Pitfalls:NoBulkheads=true` in render and the gateway, `Render:TenantWorkBudget:Enabled=false`)";

    public override string ClusterAdds => "`k8s/chaos/render-cpu-burn-hpa.sh`: the CPU limit is the pod's, and the HPA scales render out; the new pods' share comes from their own metrics.";

    public override string HypothesisTitle => "A CPU-bound service burning its cores does not take the other routes out of their SLOs";

    public override TimeSpan TimeLimit => TimeSpan.FromMinutes(4);

    public override IReadOnlyList<(string Type, string Name)> MethodOutline => [("action", "acme load + render burn (meshload)")];

    public override IReadOnlyList<string> RollbackOutline => ["stop the mesh"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context)
    {
        var judged = SloCheck.ForStreams(SloFile.Load(context.Settings.Root), Quiet);
        var probes = new List<HypothesisProbe>
        {
            new("acme within its SLOs without the burn", SloCheck.Tolerance(judged), Phase.Before,
                ct => SteadySloAsync(context, QuietStreams, judged, ct)),
        };
        foreach (var (stream, slo) in judged)
        {
            probes.Add(new($"{stream} within its SLO during the burn", SloCheck.Tolerance(slo), Phase.After, _ => Task.FromResult(SloCheck.Evaluate(_burn, stream, slo))));
        }

        return probes;
    }

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan
        {
            Render = true,
            Cpus = host => !context.Unprotected && host == "render" ? "1" : null,
            // Unprotected: what a pod without a CPU limit and without its admission would do — every render the gateway
            // lets through at once, on the thread pool at normal priority, unpinned.
            Configure = host => (context.Unprotected, host) switch
            {
                (true, "render") => new Dictionary<string, string>
                {
                    ["Render:WorkerCount"] = "32", ["Render:BelowNormalPriority"] = "false",
                    ["Mesh:Pitfalls:NoBulkheads"] = "true", ["Render:TenantWorkBudget:Enabled"] = "false",
                },
                // The gateway's render route bulkhead is render's admission too: with it bounded, the unbounded render
                // still saw only what the route let through (stop 25: 116 of 195 renders shed route-overloaded, and
                // the quiet routes held their SLOs without any bound in render).
                (true, "gateway") => new Dictionary<string, string> { ["Mesh:Pitfalls:NoBulkheads"] = "true" },
                _ => new Dictionary<string, string>(),
            },
        }, postgres: false, cancellationToken);

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        var arguments = new List<string>
        {
            "--duration", Duration(Seconds(context, 12, 8)),
            // Within the tenants' rate limits (a render costs 10 tokens), so the gateway lets the burn through to render.
            "--stream", "name=burn-acme,key=gold,method=Render,rate=15,size=512,iterations=2000,start=2s",
            "--stream", "name=burn-globex,key=silver,method=Render,rate=4,size=512,iterations=2000,start=2s",
        };
        foreach (var stream in QuietStreams)
        {
            arguments.AddRange(["--stream", stream]);
        }

        _burn = await context.ActionAsync("acme load + render burn (meshload)", ct => Load.RunAsync(Mesh.GatewayAddress, arguments, ct),
            r => new JsonObject([.. r.Json["streams"]!.AsArray().Select(s => KeyValuePair.Create((string)s!["name"]!, (JsonNode?)r.Summary((string)s["name"]!)))]), cancellationToken).ConfigureAwait(false);
        foreach (var stream in Quiet)
        {
            context.Measure($"{stream} p99 during the burn", "ms", null, P99(_burn, stream), null);
        }

        context.Measure("renders OK", "calls", null, _burn.Count("burn-acme", "ok") + _burn.Count("burn-globex", "ok"), null);
        context.Measure("renders rejected", "calls", null, _burn.Count("burn-acme", "rejected") + _burn.Count("burn-globex", "rejected"), null);
    }

    private static double P99(LoadResult load, string stream) =>
        Round(SloCheck.Percentile([.. SloCheck.Measured(load, stream).Where(c => c.Status == "OK").Select(c => c.LatencyMs).Order()], 0.99), 1);
}
