using MeshBulkheads.Chaos.Engine;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>Every local experiment, in the issue's order; a new instance per run.</summary>
internal static class ExperimentCatalog
{
    private static readonly (string Id, Func<ChaosExperiment> Create)[] All =
    [
        ("kill-payments", () => new KillPaymentsExperiment()),
        ("store-latency", () => new StoreLatencyExperiment()),
        ("blackhole-backend", () => new BlackholeBackendExperiment()),
        ("gateway-restart", () => new GatewayRestartExperiment()),
        ("rolling-restart", () => new RollingRestartExperiment()),
        ("kill-postgres", () => new PostgresRestartExperiment()),
        ("render-cpu-burn", () => new RenderCpuBurnExperiment()),
        ("tenant-flood", () => new TenantFloodExperiment()),
    ];

    public static IReadOnlyList<string> Ids => [.. All.Select(e => e.Id)];

    public static ChaosExperiment Create(string id) =>
        All.FirstOrDefault(e => e.Id == id).Create?.Invoke()
        ?? throw new ArgumentException($"no experiment '{id}' (meshchaos list: {string.Join(", ", Ids)})", nameof(id));
}
