using YamlDotNet.RepresentationModel;

namespace MeshBulkheads.Observability.Tests;

/// <summary>Every alert has a runbook anchor that exists, a severity, and promtool cases firing and quiet.</summary>
public sealed class AlertCoverageTests
{
    private const string RunbookPrefix = "docs/diagnosis.md#";

    private readonly IReadOnlyList<PrometheusRule> _alerts = [.. PrometheusRule.Load(ObservabilityFiles.Rules).Where(r => r.Alert is not null)];

    [Fact]
    public void RunbookUrl_EveryAlert_PointsAtAnAnchorInDiagnosisDoc()
    {
        // Arrange
        var diagnosis = File.ReadAllText(ObservabilityFiles.DiagnosisDoc);

        // Act
        var broken = _alerts
            .Where(a => !a.Annotations.TryGetValue("runbook_url", out var url)
                || !url.StartsWith(RunbookPrefix, StringComparison.Ordinal)
                || !diagnosis.Contains($"<a id=\"{url[RunbookPrefix.Length..]}\"></a>", StringComparison.Ordinal))
            .Select(a => a.Alert)
            .ToList();

        // Assert
        Assert.NotEmpty(_alerts);
        Assert.Empty(broken);
    }

    [Fact]
    public void Labels_EveryAlert_HasSeverityAndSummary()
    {
        // Arrange
        string[] severities = ["page", "ticket", "warning", "info"];

        // Act
        var incomplete = _alerts
            .Where(a => !a.Labels.TryGetValue("severity", out var s) || !severities.Contains(s) || !a.Annotations.ContainsKey("summary"))
            .Select(a => a.Alert)
            .ToList();

        // Assert
        Assert.Empty(incomplete);
    }

    [Fact]
    public void PromtoolCases_EveryAlert_IsTestedFiringAndQuiet()
    {
        // Arrange
        var cases = ObservabilityFiles.LoadYaml(ObservabilityFiles.RulesTests).Items("tests")
            .SelectMany(t => t.Items("alert_rule_test"))
            .Select(c => (Alert: c.Scalar("alertname"), Fires: c.Get("exp_alerts") is YamlSequenceNode { Children.Count: > 0 }))
            .ToList();

        // Act
        var untested = _alerts
            .Where(a => !cases.Contains((a.Alert, true)) || !cases.Contains((a.Alert, false)))
            .Select(a => a.Alert)
            .ToList();

        // Assert
        Assert.Empty(untested);
    }
}
