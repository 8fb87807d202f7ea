using MeshBulkheads.Testing.Processes;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Observability.Tests;

/// <summary>Paths of the observability artefacts in the repository, and YAML loading.</summary>
internal static class ObservabilityFiles
{
    private static readonly Lazy<string> Root = new(() => RepositoryLayout.Root);

    public static string RepoRoot => Root.Value;

    public static string PrometheusDirectory => Path.Combine(RepoRoot, "k8s", "observability", "prometheus");

    public static string Rules => Path.Combine(PrometheusDirectory, "rules.yaml");

    public static string RulesTests => Path.Combine(PrometheusDirectory, "rules.test.yaml");

    public static string PrometheusConfig => Path.Combine(PrometheusDirectory, "prometheus.yml");

    public static string Slo => Path.Combine(RepoRoot, "slo.yaml");

    public static string Dashboard => Path.Combine(RepoRoot, "k8s", "observability", "grafana", "meshbulkheads.json");

    public static string MetricsDoc => Path.Combine(RepoRoot, "docs", "metrics.md");

    public static string DiagnosisDoc => Path.Combine(RepoRoot, "docs", "diagnosis.md");

    public static string TourDoc => Path.Combine(RepoRoot, "docs", "tour.md");

    public static string TourRows => Path.Combine(RepoRoot, "docs", "tour-rows");

    public static string TourScript => Path.Combine(RepoRoot, "scripts", "tour.sh");

    public static YamlMappingNode LoadYaml(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static YamlNode? Get(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Scalar(this YamlMappingNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Items(this YamlMappingNode node, string key) =>
        node.Get(key) is YamlSequenceNode sequence ? sequence.Children.OfType<YamlMappingNode>() : [];
}
