namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>The YARP route of a proxied request.</summary>
public static class GatewayRoute
{
    /// <summary>Used when a request has no route (never expected inside the proxy pipeline).</summary>
    public const string Unknown = "unknown";

    /// <summary>The route id from configuration, e.g. <c>payments</c>.</summary>
    public static string IdOf(HttpContext context) =>
        GatewayCall.Of(context).RouteId;
}
