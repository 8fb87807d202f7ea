using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Observability.Tests;

/// <summary>One rule from rules.yaml: a recording (<see cref="Record"/>) or an alert (<see cref="Alert"/>).</summary>
internal sealed record PrometheusRule(string? Record, string? Alert, string Expr, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations)
{
    public static IReadOnlyList<PrometheusRule> Load(string path) =>
        [.. ObservabilityFiles.LoadYaml(path).Items("groups").SelectMany(g => g.Items("rules")).Select(FromYaml)];

    private static PrometheusRule FromYaml(YamlMappingNode rule) => new(
        rule.Scalar("record"),
        rule.Scalar("alert"),
        rule.Scalar("expr") ?? throw new InvalidOperationException("A rule without expr."),
        Map(rule.Get("labels")),
        Map(rule.Get("annotations")));

    private static Dictionary<string, string> Map(YamlNode? node) =>
        node is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value ?? string.Empty)
            : [];
}
