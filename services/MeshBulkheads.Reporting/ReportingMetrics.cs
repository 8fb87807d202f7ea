using System.Diagnostics.Metrics;

namespace MeshBulkheads.Reporting;

/// <summary>
/// Meter <c>MeshBulkheads.Reporting</c>: downstream calls in flight. The cap itself, its queue and
/// the wait for a slot are the shared bulkhead <c>reporting-fanout</c>'s metrics (meter
/// <c>MeshBulkheads.Concurrency</c>); this counter also moves when the uncapped pitfall bypasses it.
/// </summary>
public sealed class ReportingMetrics
{
    public const string MeterName = "MeshBulkheads.Reporting";

    private readonly UpDownCounter<long> _inFlight;

    public ReportingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _inFlight = meter.CreateUpDownCounter<long>(
            "meshbulkheads.reporting.fanout.in_flight", unit: "{call}", description: "Downstream payments calls in flight, all reports together.");
    }

    public void CallStarted() => _inFlight.Add(1);

    public void CallEnded() => _inFlight.Add(-1);
}
