using System.Diagnostics.Metrics;
using Grpc.Core;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>
/// The duration histogram of the gRPC calls a process serves or makes (meter <see cref="GrpcMetrics.MeterName"/>),
/// timed with the injected clock and tagged by <see cref="GrpcMetrics.Tags"/>: what the client and server
/// interceptors share; each decides only which status a call ended with.
/// </summary>
internal sealed class GrpcCallDuration(IMeterFactory meterFactory, TimeProvider timeProvider, string name, string description)
{
    private readonly Histogram<double> _histogram = meterFactory.Create(GrpcMetrics.MeterName).CreateSecondsHistogram(name, description);

    /// <summary>Whether anyone listens (the tags are worth building).</summary>
    public bool Enabled => _histogram.Enabled;

    /// <summary>The timestamp a call starts at.</summary>
    public long Start() => timeProvider.GetTimestamp();

    /// <summary>Records the call started at <paramref name="started"/> to <paramref name="fullMethod"/> that ended with <paramref name="status"/>.</summary>
    public void Record(long started, string fullMethod, StatusCode status) =>
        _histogram.RecordSeconds(timeProvider.GetElapsedTime(started), GrpcMetrics.Tags(fullMethod, status));
}
