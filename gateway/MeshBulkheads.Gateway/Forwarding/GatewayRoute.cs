namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>Route ids of proxied requests; a call's own is <see cref="GatewayCall.RouteId"/>.</summary>
public static class GatewayRoute
{
    /// <summary>Used when a request has no route (never expected inside the proxy pipeline).</summary>
    public const string Unknown = "unknown";
}
