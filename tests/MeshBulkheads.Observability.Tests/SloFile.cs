using System.Globalization;

namespace MeshBulkheads.Observability.Tests;

/// <summary>The numbers of slo.yaml.</summary>
internal sealed record SloFile(IReadOnlyList<SloEntry> Slos, IReadOnlyDictionary<string, double> AlertThresholds)
{
    public static SloFile Load()
    {
        var root = ObservabilityFiles.LoadYaml(ObservabilityFiles.Slo);
        var slos = root.Items("slos")
            .Select(s => new SloEntry(
                s.Scalar("name") ?? throw new InvalidOperationException("An SLO without a name."),
                Number(s.Scalar("success_ratio")),
                Number(s.Scalar("latency_p99_seconds")),
                s.Scalar("load") ?? string.Empty))
            .ToList();
        var alerts = root.Get("alerts") is YamlDotNet.RepresentationModel.YamlMappingNode mapping
            ? mapping.Children.ToDictionary(c => c.Key.ToString(), c => Number(c.Value.ToString()), StringComparer.Ordinal)
            : [];
        return new SloFile(slos, alerts);
    }

    private static double Number(string? text) =>
        double.Parse(text ?? throw new InvalidOperationException("A missing number in slo.yaml."), NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>One SLO: a route's success ratio and p99 latency objective, at a stated load.</summary>
internal sealed record SloEntry(string Name, double SuccessRatio, double LatencyP99Seconds, string Load);
