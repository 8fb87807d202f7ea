using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway;

/// <summary>
/// The one way the gateway answers a call itself: counts the rejection
/// (<c>meshbulkheads.gateway.rejections</c> by route and reason) and writes it
/// (<see cref="MeshRejection.WriteAsync"/>: Trailers-Only gRPC, plain HTTP with <c>Retry-After</c>, or the status in
/// the trailers of a response cut short). Reasons come from <see cref="MeshRejectReasons"/>, the mesh's one list.
/// </summary>
public static class GatewayRejections
{
    /// <summary>Counts and writes <paramref name="rejection"/>.</summary>
    /// <param name="context">The request.</param>
    /// <param name="metrics">The gateway's metrics.</param>
    /// <param name="route">The YARP route id (or <c>unknown</c>).</param>
    /// <param name="rejection">What to answer.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public static Task WriteAsync(HttpContext context, GatewayMetrics metrics, string route, MeshRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(rejection);
        metrics.Rejected(route, rejection.Reason);
        return rejection.WriteAsync(context);
    }
}
