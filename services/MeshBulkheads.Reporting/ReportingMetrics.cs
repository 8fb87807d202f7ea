using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Reporting;

/// <summary>Meter <c>MeshBulkheads.Reporting</c>: downstream fan-out in flight, its cap, and the wait for a slot.</summary>
public sealed class ReportingMetrics
{
    public const string MeterName = "MeshBulkheads.Reporting";

    private readonly Meter _meter;
    private readonly UpDownCounter<long> _inFlight;
    private readonly Histogram<double> _wait;

    public ReportingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _inFlight = _meter.CreateUpDownCounter<long>(
            "meshbulkheads.reporting.fanout.in_flight", unit: "{call}", description: "Downstream payments calls in flight, all reports together.");
        _wait = _meter.CreateHistogram(
            "meshbulkheads.reporting.fanout.wait",
            unit: "s",
            description: "Time a downstream call waited for a slot under the process-wide cap.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });
    }

    /// <summary>Publishes the process-wide cap (not published when the uncapped pitfall is on).</summary>
    public void ObserveLimit(int limit) =>
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.reporting.fanout.limit", () => limit, unit: "{call}", description: "Process-wide cap on concurrent downstream calls.");

    public void CallStarted() => _inFlight.Add(1);

    public void CallEnded() => _inFlight.Add(-1);

    public void Waited(TimeSpan wait)
    {
        if (_wait.Enabled)
        {
            _wait.Record(wait.TotalSeconds);
        }
    }
}
