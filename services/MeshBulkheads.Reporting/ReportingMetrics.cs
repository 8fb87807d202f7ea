using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Reporting;

/// <summary>
/// Meter <c>MeshBulkheads.Reporting</c>: downstream calls in progress, in the bulkhead's vocabulary
/// (<c>meshbulkheads.reporting.fanout.active_requests</c>). The cap itself, its queue and the wait for
/// a slot are the shared bulkhead <c>reporting-fanout</c>'s metrics (meter
/// <c>MeshBulkheads.Concurrency</c>); this counter also moves when the uncapped pitfall bypasses it.
/// </summary>
public sealed class ReportingMetrics
{
    public const string MeterName = MeshTelemetry.Prefix + ".Reporting";

    /// <summary>UpDownCounter: downstream payments calls in progress, all reports together.</summary>
    public const string ActiveRequestsName = "meshbulkheads.reporting.fanout.active_requests";

    private readonly UpDownCounter<long> _activeRequests;

    public ReportingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _activeRequests = meter.CreateUpDownCounter<long>(
            ActiveRequestsName, unit: "{request}", description: "Downstream payments calls in progress, all reports together.");
    }

    public void CallStarted() => _activeRequests.Add(1);

    public void CallEnded() => _activeRequests.Add(-1);
}
