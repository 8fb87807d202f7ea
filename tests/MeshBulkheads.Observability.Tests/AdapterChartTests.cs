using MeshBulkheads.Testing.Processes;
using MeshBulkheads.Testing.Prometheus;
using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Observability.Tests;

/// <summary>
/// The HPAs the chart renders with <c>ci/autoscaling-adapter-values.yaml</c> ask for exactly the metrics
/// the prometheus-adapter rules publish (a name the adapter does not serve leaves the HPA at
/// <c>&lt;unknown&gt;</c> forever). Runs the repository's helm (<c>.tools/bin/helm</c>, from
/// <c>scripts/ensure-deps.sh helm</c>).
/// </summary>
public sealed class AdapterChartTests
{
    [Fact]
    public async Task Template_AdapterProfile_HpaPodsMetricNamesAreTheAdapterRulesNames()
    {
        // Arrange
        var expected = PrometheusAdapterRule.LoadAll().Select(r => r.NameAs).Order(StringComparer.Ordinal).ToList();

        // Act
        var hpas = Objects(await TemplateAsync("autoscaling-adapter-values.yaml"), "HorizontalPodAutoscaler");

        // Assert: three services, each on both adapter metrics (render also on CPU, from metrics-server).
        Assert.Equal(3, hpas.Count);
        Assert.All(hpas, hpa =>
        {
            var metrics = ((YamlSequenceNode)Spec(hpa).Get("metrics")!).Children.OfType<YamlMappingNode>().ToList();
            var podMetrics = metrics.Where(m => m.Scalar("type") == "Pods")
                .Select(m => ((YamlMappingNode)((YamlMappingNode)m.Get("pods")!).Get("metric")!).Scalar("name")!)
                .Order(StringComparer.Ordinal);
            Assert.Equal(expected, podMetrics);
            Assert.All(metrics, m => Assert.True(m.Scalar("type") is "Pods" or "Resource", $"unexpected metric type {m.Scalar("type")}"));
        });
    }

    [Fact]
    public async Task Template_KedaProfile_ScaledObjectsAndNoHpaOfTheChart()
    {
        // Act
        var rendered = await TemplateAsync("autoscaling-keda-values.yaml");

        // Assert: KEDA creates and owns the HPA; a second HPA on the same Deployment would fight it.
        Assert.Empty(Objects(rendered, "HorizontalPodAutoscaler"));
        var scaled = Objects(rendered, "ScaledObject");
        Assert.Equal(3, scaled.Count);
        Assert.All(scaled, so =>
        {
            var spec = Spec(so);
            Assert.True(int.Parse(spec.Scalar("minReplicaCount")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
            Assert.NotNull(spec.Get("fallback"));
            var prometheus = ((YamlSequenceNode)spec.Get("triggers")!).Children.OfType<YamlMappingNode>().Where(t => t.Scalar("type") == "prometheus").ToList();
            Assert.Equal(2, prometheus.Count);
            Assert.All(prometheus, t =>
            {
                Assert.Equal("Value", t.Scalar("metricType"));
                var metadata = (YamlMappingNode)t.Get("metadata")!;
                Assert.StartsWith("max(", metadata.Scalar("query"), StringComparison.Ordinal);
                Assert.Equal("false", metadata.Scalar("ignoreNullValues"));
                Assert.All(metadata.Children.Values, v => Assert.NotEqual(YamlDotNet.Core.ScalarStyle.Plain, ((YamlScalarNode)v).Style));
            });
        });
    }

    private static YamlMappingNode Spec(YamlMappingNode o) => (YamlMappingNode)o.Get("spec")!;

    private static List<YamlMappingNode> Objects(string rendered, string kind)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(rendered));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().Where(n => n.Scalar("kind") == kind)];
    }

    private static async Task<string> TemplateAsync(string valuesFile)
    {
        var helm = ServerRequirement.FindExecutable("helm", Path.Combine(ObservabilityFiles.RepoRoot, ".tools", "bin"));
        if (helm is null)
        {
            ServerRequirement.Unavailable("helm is not installed (scripts/ensure-deps.sh helm)");
        }

        var chart = Path.Combine(ObservabilityFiles.RepoRoot, "helm", "meshbulkheads");
        var result = await Tool.RunAsync(
            helm!,
            ["template", "mb", chart, "--namespace", "demo", "-f", Path.Combine(chart, "ci", valuesFile)],
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.Succeeded, result.ToString());
        return result.StandardOutput;
    }
}
