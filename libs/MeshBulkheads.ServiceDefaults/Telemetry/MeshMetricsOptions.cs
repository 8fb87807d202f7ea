namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>Section <c>Mesh:Metrics</c>: how every process exports its metrics.</summary>
public sealed class MeshMetricsOptions
{
    public const string SectionName = "Mesh:Metrics";

    /// <summary>
    /// A histogram bucket keeps the trace id of a sampled request that fell into it; the Prometheus exporter shows
    /// it when scraped as OpenMetrics.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool Exemplars { get; set; } = true;
}
