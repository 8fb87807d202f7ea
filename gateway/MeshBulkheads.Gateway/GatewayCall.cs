using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Tenancy;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway;

/// <summary>
/// Everything the gateway decides about one proxied call, in one request feature: the resolved method, the
/// route, the authenticated tenant, the criticality stamped on it and its deadline. Set once, by the first
/// middleware that needs it (<see cref="MethodResolutionMiddleware"/> in the shipped pipeline), and read by
/// every later one, so each call pays one feature lookup per middleware and one object, not one feature
/// per decision (each new feature type grows the request's feature collection).
/// </summary>
public sealed class GatewayCall
{
    private GatewayCall(RouteModel? route)
    {
        Route = route;
        RouteId = route?.Config.RouteId ?? GatewayRoute.Unknown;
    }

    /// <summary>The YARP route the call matched (from the endpoint), or null outside the proxy routes.</summary>
    public RouteModel? Route { get; }

    /// <summary>The route id from configuration, e.g. <c>payments</c> (<see cref="GatewayRoute.Unknown"/> without a route).</summary>
    public string RouteId { get; }

    /// <summary>The method the path resolved to exactly (<see cref="GatewayMethods"/>), or null.</summary>
    public GatewayMethod? Method { get; internal set; }

    /// <summary>The authenticated tenant (<see cref="TenancyMiddleware"/>), or null before or without authentication.</summary>
    public GatewayTenant? Tenant { get; internal set; }

    /// <summary>The criticality <see cref="GatewayCriticality"/> stamped on the call; sheddable until then.</summary>
    public BulkheadCriticality Criticality { get; internal set; } = BulkheadCriticality.Sheddable;

    /// <summary>The deadline <c>DeadlineMiddleware</c> gave the call on arrival, or null before it.</summary>
    public IDeadlineFeature? Deadline { get; internal set; }

    /// <summary>The call's state, created (route from the endpoint) and set on first use.</summary>
    public static GatewayCall Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<GatewayCall>() is { } call)
        {
            return call;
        }

        call = new GatewayCall(context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>());
        context.Features.Set(call);
        return call;
    }
}
