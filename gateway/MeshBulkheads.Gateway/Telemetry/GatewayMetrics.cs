using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>
/// The gateway's own instruments (meter <c>MeshBulkheads.Gateway</c>). Tag values are bounded:
/// route ids come from configuration and reasons from <see cref="GatewayRejectReasons"/>.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "MeshBulkheads.Gateway";

    /// <summary>The YARP route id, e.g. <c>payments</c>.</summary>
    public const string RouteTag = "meshbulkheads.route";

    /// <summary>The <c>x-mesh-reject-reason</c> value.</summary>
    public const string ReasonTag = "meshbulkheads.reject_reason";

    private readonly Counter<long> _rejected;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rejected = meter.CreateCounter<long>(
            "meshbulkheads.gateway.rejected_requests",
            unit: "{request}",
            description: "Requests the gateway answered itself with a gRPC error instead of a backend's answer, by route and reason.");
    }

    /// <summary>Counts one request rejected by the gateway.</summary>
    public void Rejected(string route, string reason)
    {
        if (_rejected.Enabled)
        {
            _rejected.Add(1, new TagList { { RouteTag, route }, { ReasonTag, reason } });
        }
    }
}
