using OpenTelemetry.Trace;

namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>
/// The sampler of a process at the edge (the gateway, <c>Mesh:Tracing:TrustRemoteSampling=false</c>): a request
/// that arrives with a client's <c>traceparent</c> continues that trace id, but whether it is sampled is this
/// process's decision at <see cref="MeshTracingOptions.SamplingRatio"/>, not the client's flag — a client cannot
/// force 100 % sampling (or turn it off). Local parents are followed as usual.
/// </summary>
/// <remarks>
/// The decision hashes the trace id with the process's random <see cref="HashCode"/> seed, not the id's own bits
/// (as <see cref="TraceIdRatioBasedSampler"/> does): a client choosing trace ids cannot pick ones that get sampled.
/// </remarks>
internal sealed class EdgeSampler(double ratio) : Sampler
{
    private readonly Sampler _local = new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio));
    private readonly ulong _threshold = ratio >= 1 ? ulong.MaxValue : (ulong)(ratio * ulong.MaxValue);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId == default || !parent.IsRemote)
        {
            return _local.ShouldSample(samplingParameters);
        }

        Span<byte> id = stackalloc byte[16];
        samplingParameters.TraceId.CopyTo(id);
        var high = (uint)HashCode.Combine(BitConverter.ToUInt64(id), 0x5a17);
        var low = (uint)HashCode.Combine(BitConverter.ToUInt64(id[8..]), 0x3c9e);
        var hash = ((ulong)high << 32) | low;
        return new SamplingResult(ratio > 0 && hash <= _threshold ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
    }
}
