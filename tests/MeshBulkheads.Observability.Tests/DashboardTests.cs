using System.Text.Json;

namespace MeshBulkheads.Observability.Tests;

/// <summary>The Grafana dashboard and the rules query only metrics that docs/metrics.md documents.</summary>
public sealed class DashboardTests
{
    private readonly MetricsDocument _doc = MetricsDocument.Load();
    private readonly IReadOnlySet<string> _recorded = PrometheusRule.Load(ObservabilityFiles.Rules)
        .Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void Dashboard_Json_HasUidAndQueryPanels()
    {
        // Arrange
        using var json = JsonDocument.Parse(File.ReadAllText(ObservabilityFiles.Dashboard));

        // Act
        var uid = json.RootElement.GetProperty("uid").GetString();
        var exprs = Exprs(json.RootElement).ToList();

        // Assert
        Assert.Equal("meshbulkheads", uid);
        Assert.True(exprs.Count >= 20, $"only {exprs.Count} queries");
    }

    [Fact]
    public void Dashboard_EveryExpr_ReadsOnlyDocumentedMetricsOrRecordingRules()
    {
        // Arrange
        using var json = JsonDocument.Parse(File.ReadAllText(ObservabilityFiles.Dashboard));
        var allowed = _doc.SeriesNames().Union(_recorded).ToHashSet(StringComparer.Ordinal);

        // Act
        var unknown = Exprs(json.RootElement)
            .SelectMany(e => PromQlNames.Metrics(e).Where(n => !allowed.Contains(n)).Select(n => $"{n} in {e}"))
            .ToList();

        // Assert
        Assert.Empty(unknown);
    }

    [Fact]
    public void Dashboard_SaturationSignals_AreAllShown()
    {
        // Arrange: the list of what the dashboard must show.
        string[] required =
        [
            "meshbulkheads_bulkhead_active_requests", "meshbulkheads_bulkhead_permit_limit", "meshbulkheads_bulkhead_queued_requests",
            "meshbulkheads_bulkhead_queue_oldest_age_seconds", "meshbulkheads_bulkhead_requests_total", "meshbulkheads_db_pool_request_time_in_queue_seconds_bucket",
            "meshbulkheads_threadpool_lag_seconds_bucket", "meshbulkheads_gateway_rate_limit_requests_total",
            "meshbulkheads_gateway_request_duration_seconds_bucket", "meshbulkheads:slo_errors:ratio_rate1h",
        ];
        using var json = JsonDocument.Parse(File.ReadAllText(ObservabilityFiles.Dashboard));

        // Act
        var used = Exprs(json.RootElement).SelectMany(PromQlNames.Metrics).ToHashSet(StringComparer.Ordinal);
        var missing = required.Except(used).ToList();

        // Assert
        Assert.Empty(missing);
    }

    [Fact]
    public void Rules_EveryRawMetric_IsDocumented()
    {
        // Arrange
        var rules = PrometheusRule.Load(ObservabilityFiles.Rules);
        var allowed = _doc.SeriesNames().Union(_recorded).ToHashSet(StringComparer.Ordinal);

        // Act
        var unknown = rules.SelectMany(r => PromQlNames.Metrics(r.Expr).Where(n => !allowed.Contains(n)).Select(n => $"{n} in {r.Record ?? r.Alert}")).ToList();

        // Assert
        Assert.Empty(unknown);
    }

    [Fact]
    public void Metrics_ExtractedFromExpression_SkipFunctionsLabelsAndVariables()
    {
        // Arrange
        const string expr = "histogram_quantile(0.99, sum by (pod, le) (rate(foo_seconds_bucket{namespace=~\"$namespace\", a!~\"x|y\"}[$__rate_interval])))"
            + " / on (slo) group_left () (1 - bar:baz:ratio) and vector(1)";

        // Act
        var names = PromQlNames.Metrics(expr);

        // Assert
        Assert.Equal(["bar:baz:ratio", "foo_seconds_bucket"], names.Order());
    }

    internal static IEnumerable<string> Exprs(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                {
                    yield return property.Value.GetString()!;
                }
                else
                {
                    foreach (var expr in Exprs(property.Value))
                    {
                        yield return expr;
                    }
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var expr in element.EnumerateArray().SelectMany(Exprs))
            {
                yield return expr;
            }
        }
    }
}
