using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>Section <c>Mesh:Tracing</c>: how every process samples its traces.</summary>
public sealed class MeshTracingOptions
{
    public const string SectionName = "Mesh:Tracing";

    /// <summary>The fraction of root traces sampled; a child follows its parent's decision.</summary>
    /// <value>The default value is 1 (every trace). Range 0 to 1.</value>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;
}
