using System.Globalization;
using System.Text.RegularExpressions;

namespace MeshBulkheads.Observability.Tests;

/// <summary>The numbers in rules.yaml are the numbers in slo.yaml.</summary>
public sealed partial class RulesMatchSloTests
{
    private static readonly string[] Windows = ["5m", "30m", "1h", "6h"];

    private readonly SloFile _slo = SloFile.Load();
    private readonly IReadOnlyList<PrometheusRule> _rules = PrometheusRule.Load(ObservabilityFiles.Rules);

    [Fact]
    public void SloObjectives_EveryRecordedConstant_EqualsSloYaml()
    {
        // Arrange
        var objectives = Constants("meshbulkheads:slo_objective:ratio");
        var latencies = Constants("meshbulkheads:slo_latency_threshold:seconds");

        // Act
        var expectedObjectives = _slo.Slos.ToDictionary(s => s.Name, s => $"vector({Format(s.SuccessRatio)})");
        var expectedLatencies = _slo.Slos.ToDictionary(s => s.Name, s => $"vector({Format(s.LatencyP99Seconds)})");

        // Assert
        Assert.NotEmpty(_slo.Slos);
        Assert.Equal(expectedObjectives.OrderBy(p => p.Key), objectives.OrderBy(p => p.Key));
        Assert.Equal(expectedLatencies.OrderBy(p => p.Key), latencies.OrderBy(p => p.Key));
    }

    [Fact]
    public void SliRecords_EverySlo_HasErrorRatioForEveryWindowAndLatency()
    {
        // Arrange
        var recorded = _rules.Where(r => r.Record is not null && r.Labels.ContainsKey("slo"))
            .Select(r => (r.Record, Slo: r.Labels["slo"]))
            .ToHashSet();

        // Act
        var missing = _slo.Slos
            .SelectMany(s => Windows.Select(w => ($"meshbulkheads:slo_errors:ratio_rate{w}", s.Name))
                .Append(("meshbulkheads:slo_latency_p99:seconds_rate5m", s.Name)))
            .Where(expected => !recorded.Contains(expected))
            .ToList();

        // Assert
        Assert.Empty(missing);
    }

    [Fact]
    public void SaturationAlerts_Threshold_EqualsSloYamlAlertsSection()
    {
        // Arrange: slo.yaml `alerts:` key → the alert whose expression ends in "> <number>".
        var simple = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["queue_oldest_age_seconds"] = "MeshBulkheadsQueueAgeHigh",
            ["threadpool_lag_p99_seconds"] = "MeshBulkheadsThreadPoolLagHigh",
            ["db_pool_wait_p99_seconds"] = "MeshBulkheadsDbPoolWaitHigh",
            ["shed_ratio"] = "MeshBulkheadsSheddingHigh",
            ["tenant_rejection_ratio"] = "MeshBulkheadsTenantRejectionsHigh",
        };
        var burn = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["burn_rate_fast"] = "MeshBulkheadsErrorBudgetBurnFast",
            ["burn_rate_slow"] = "MeshBulkheadsErrorBudgetBurnSlow",
        };

        // Act
        var simpleThresholds = simple.ToDictionary(p => p.Key, p => TrailingThreshold().Match(AlertExpr(p.Value)).Groups["n"].Value);
        var burnThresholds = burn.ToDictionary(p => p.Key, p => BurnFactor().Matches(AlertExpr(p.Value)).Select(m => m.Groups["n"].Value).ToList());

        // Assert: every key of slo.yaml's alerts section is checked, and every number matches.
        Assert.Equal(_slo.AlertThresholds.Keys.Order(), simple.Keys.Concat(burn.Keys).Order());
        foreach (var (key, threshold) in simpleThresholds)
        {
            Assert.True(Format(_slo.AlertThresholds[key]) == threshold, $"{simple[key]}: rules.yaml has '> {threshold}', slo.yaml alerts.{key} is {Format(_slo.AlertThresholds[key])}");
        }

        foreach (var (key, factors) in burnThresholds)
        {
            // Both windows (long and short) use the same factor.
            Assert.Equal([Format(_slo.AlertThresholds[key]), Format(_slo.AlertThresholds[key])], factors);
        }
    }

    private Dictionary<string, string> Constants(string record) =>
        _rules.Where(r => r.Record == record).ToDictionary(r => r.Labels["slo"], r => r.Expr.Trim(), StringComparer.Ordinal);

    private string AlertExpr(string alert) => Assert.Single(_rules, r => r.Alert == alert).Expr.Trim();

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    [GeneratedRegex(@">\s*(?<n>[0-9.]+)\s*$")]
    private static partial Regex TrailingThreshold();

    [GeneratedRegex(@"\((?<n>[0-9.]+) \* \(1 - meshbulkheads:slo_objective:ratio\)\)")]
    private static partial Regex BurnFactor();
}
