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

    /// <summary>
    /// Whether a remote parent's sampled flag decides (a service behind the gateway: the gateway decided). False at
    /// the edge (the gateway's appsettings.json): a client's <c>traceparent</c> keeps its trace id but not its
    /// sampling decision, so an outside caller cannot force every request to be traced.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool TrustRemoteSampling { get; set; } = true;

    /// <summary>The sampler these options describe.</summary>
    internal OpenTelemetry.Trace.Sampler CreateSampler() => TrustRemoteSampling
        ? new OpenTelemetry.Trace.ParentBasedSampler(new OpenTelemetry.Trace.TraceIdRatioBasedSampler(SamplingRatio))
        : new Internal.EdgeSampler(SamplingRatio);
}
