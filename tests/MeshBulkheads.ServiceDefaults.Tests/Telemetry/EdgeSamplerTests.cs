using System.Diagnostics;
using MeshBulkheads.ServiceDefaults.Telemetry.Internal;
using OpenTelemetry.Trace;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

/// <summary>At the edge a client's traceparent keeps its trace id but not its sampling decision (docs/security.md).</summary>
public sealed class EdgeSamplerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.25)]
    [InlineData(1.0)]
    public void ShouldSample_RemoteParentSayingSampled_DecidedAtTheConfiguredRatio(double ratio)
    {
        // Arrange: 4,000 client requests, every one flagged sampled.
        var sampler = new EdgeSampler(ratio);

        // Act
        var sampled = Enumerable.Range(0, 4_000).Count(_ => sampler.ShouldSample(Remote(ActivityTraceFlags.Recorded)).Decision == SamplingDecision.RecordAndSample);

        // Assert
        Assert.InRange(sampled / 4_000.0, ratio - 0.05, ratio + 0.05);
    }

    [Fact]
    public void ShouldSample_RemoteParentSayingNotSampled_StillSampledAtTheRatio()
    {
        // Arrange
        var sampler = new EdgeSampler(1.0);

        // Act
        var decision = sampler.ShouldSample(Remote(ActivityTraceFlags.None)).Decision;

        // Assert
        Assert.Equal(SamplingDecision.RecordAndSample, decision);
    }

    [Fact]
    public void ShouldSample_LocalParent_FollowsIt()
    {
        // Arrange: a span inside the gateway whose parent this process already decided on.
        var sampler = new EdgeSampler(0.0);
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: false);

        // Act
        var decision = sampler.ShouldSample(new SamplingParameters(parent, parent.TraceId, "child", ActivityKind.Internal)).Decision;

        // Assert
        Assert.Equal(SamplingDecision.RecordAndSample, decision);
    }

    [Fact]
    public void CreateSampler_TrustRemoteSampling_ServicesFollowTheGatewaysFlagAndTheEdgeDoesNot()
    {
        // Arrange
        var flaggedNotSampled = Remote(ActivityTraceFlags.None);

        // Act
        var service = new MeshTracingOptions { SamplingRatio = 1.0 }.CreateSampler().ShouldSample(flaggedNotSampled).Decision;
        var edge = new MeshTracingOptions { SamplingRatio = 1.0, TrustRemoteSampling = false }.CreateSampler().ShouldSample(flaggedNotSampled).Decision;

        // Assert
        Assert.Equal(SamplingDecision.Drop, service);
        Assert.Equal(SamplingDecision.RecordAndSample, edge);
    }

    private static SamplingParameters Remote(ActivityTraceFlags flags)
    {
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, isRemote: true);
        return new SamplingParameters(parent, parent.TraceId, "POST", ActivityKind.Server);
    }
}
