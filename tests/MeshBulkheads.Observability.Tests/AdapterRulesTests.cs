using System.Text.RegularExpressions;
using MeshBulkheads.Testing.Prometheus;

namespace MeshBulkheads.Observability.Tests;

/// <summary>
/// The prometheus-adapter rules (k8s/observability/prometheus-adapter-values.yaml) the HPAs scale on:
/// their shape, and their queries as the adapter renders them, through the real promtool on synthetic
/// series (prometheus/adapter-rules.test.yaml: max not sum, fan-out excluded, idle pods at 0).
/// </summary>
public sealed partial class AdapterRulesTests
{
    private static string TestFile => Path.Combine(ObservabilityFiles.PrometheusDirectory, "adapter-rules.test.yaml");

    [Fact]
    public void Values_CustomRulesOnly_NoDefaultResourceOrExternalRules()
    {
        // Arrange
        var values = ObservabilityFiles.LoadYaml(PrometheusAdapterRule.ValuesFile);
        var rules = (YamlDotNet.RepresentationModel.YamlMappingNode)values.Get("rules")!;

        // Act
        var custom = rules.Items("custom").ToList();

        // Assert
        Assert.Equal("false", rules.Scalar("default"));
        Assert.Empty(((YamlDotNet.RepresentationModel.YamlMappingNode)rules.Get("resource")!).Children);
        Assert.Empty(((YamlDotNet.RepresentationModel.YamlSequenceNode)rules.Get("external")!).Children);
        Assert.Equal(2, custom.Count);
        Assert.Equal(custom.Count, PrometheusAdapterRule.LoadAll().Count);
    }

    [Fact]
    public void Values_EveryRule_RequiresNamespaceAndPodAndTakesTheMaxByGroupBy()
    {
        // Arrange
        var rules = PrometheusAdapterRule.LoadAll();

        // Act / Assert
        Assert.Equal(["meshbulkheads_queue_age_seconds", "meshbulkheads_saturation_ratio"], rules.Select(r => r.NameAs).Order(StringComparer.Ordinal));
        Assert.All(rules, r =>
        {
            Assert.Contains("namespace!=\"\"", r.SeriesQuery, StringComparison.Ordinal);
            Assert.Contains("pod!=\"\"", r.SeriesQuery, StringComparison.Ordinal);
            Assert.StartsWith("max by (<<.GroupBy>>) (", r.MetricsQuery, StringComparison.Ordinal);
            Assert.DoesNotContain("sum", r.MetricsQuery, StringComparison.Ordinal);
            Assert.Contains("meshbulkheads_bulkhead!=\"reporting-fanout\"", r.MetricsQuery, StringComparison.Ordinal);
            Assert.Matches($"^{Regex.Escape(r.NameMatches.Trim('^', '$'))}$", r.Series);
        });
    }

    [Fact]
    public void Values_RelistInterval_AtLeastTheScrapeInterval()
    {
        // Arrange: the in-cluster scrape interval is at most the Prometheus chart's default, 1 m.
        var values = ObservabilityFiles.LoadYaml(PrometheusAdapterRule.ValuesFile);

        // Act
        var relist = ParseDuration(values.Scalar("metricsRelistInterval")!);

        // Assert
        Assert.True(relist >= TimeSpan.FromMinutes(1), $"metricsRelistInterval {relist} is below the scrape interval");
    }

    [Fact]
    public void TestFile_EveryExpr_IsAnAdapterRuleRenderedForItsPods()
    {
        // Arrange
        var rules = PrometheusAdapterRule.LoadAll();
        var exprs = Exprs(File.ReadAllText(TestFile));

        // Act: which rule each expr renders (byte for byte, for the namespace and pods it names).
        var rendered = exprs.Select(e => rules.FirstOrDefault(r => r.Render(NamespaceMatcher().Match(e).Groups["ns"].Value, PodMatcher().Match(e).Groups["pods"].Value.Split('|')) == e)).ToList();

        // Assert: every expr is an adapter rendering, and every rule is tested.
        Assert.NotEmpty(exprs);
        Assert.All(exprs.Zip(rendered), p => Assert.True(p.Second is not null, $"not an adapter rendering of any rule: {p.First}"));
        Assert.All(rules, r => Assert.Contains(r, rendered));
    }

    [Fact]
    public async Task TestRules_AdapterQueries_EveryCasePasses()
    {
        // Act
        var (exitCode, output) = await Promtool.RunAsync(ObservabilityFiles.PrometheusDirectory, TestContext.Current.CancellationToken, "test", "rules", "adapter-rules.test.yaml");

        // Assert
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestRules_QueueAgeSummedInsteadOfMaxed_CaseFails()
    {
        // Arrange: the same cases with the queue-age aggregation changed to sum. If they still passed,
        // they would not be checking max-not-sum.
        var dir = Directory.CreateTempSubdirectory("meshbulkheads-adapter-");
        try
        {
            var text = await File.ReadAllTextAsync(TestFile, TestContext.Current.CancellationToken);
            var mutated = text.Replace("'max by (pod) (meshbulkheads_bulkhead_queue_oldest_age_seconds", "'sum by (pod) (meshbulkheads_bulkhead_queue_oldest_age_seconds", StringComparison.Ordinal);
            Assert.NotEqual(text, mutated);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "adapter-rules.test.yaml"), mutated, TestContext.Current.CancellationToken);

            // Act
            var (exitCode, output) = await Promtool.RunAsync(dir.FullName, TestContext.Current.CancellationToken, "test", "rules", "adapter-rules.test.yaml");

            // Assert
            Assert.NotEqual(0, exitCode);
            Assert.Contains("got: {pod=\"payments-7d9f-a\"} 3.5E-01", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static List<string> Exprs(string text) =>
        [.. ExprLine().Matches(text).Select(m => m.Groups["q"].Value.Replace("''", "'", StringComparison.Ordinal))];

    private static TimeSpan ParseDuration(string text)
    {
        var m = DurationPattern().Match(text);
        Assert.True(m.Success, $"not a duration: {text}");
        var n = int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups["u"].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            _ => TimeSpan.FromHours(n),
        };
    }

    [GeneratedRegex(@"^\s*- expr: '(?<q>(?:[^']|'')*)'\s*$", RegexOptions.Multiline)]
    private static partial Regex ExprLine();

    [GeneratedRegex("namespace=\"(?<ns>[^\"]*)\"")]
    private static partial Regex NamespaceMatcher();

    [GeneratedRegex("pod=~\"(?<pods>[^\"]*)\"")]
    private static partial Regex PodMatcher();

    [GeneratedRegex("^(?<n>[0-9]+)(?<u>[smh])$")]
    private static partial Regex DurationPattern();
}
