using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Gateway.Deadlines;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.Reflection;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Gateway;

/// <summary>Builds the gateway host; tests call <see cref="Build"/> with their own configuration.</summary>
/// <remarks>Each feature folder registers itself (<c>AddGateway&lt;Feature&gt;()</c>); this file only composes them and orders the middlewares.</remarks>
public static class GatewayApp
{
    public const string ServiceName = "gateway";

    /// <summary>The YARP configuration section (routes and clusters).</summary>
    public const string ReverseProxySectionName = "ReverseProxy";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(GatewayApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8080, defaultAdminPort: 9080);
        // The gateway's own gRPC services (reflection) are not admitted through bulkheads: metrics only.
        builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor());
        builder.Services.AddGatewayReflection();
        // Live view of the section: routes and clusters added by `configure` or a reload are YARP's too.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection(ReverseProxySectionName))
            .AddGatewayTelemetry()
            .AddGatewayTenancy()
            .AddGatewayRateLimiting()
            .AddGatewayDeadlines()
            .AddGatewayRouteBulkheads()
            .AddGatewayForwarding();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Created now, not on the first call, so reloads before the first call are applied and counted.
        app.Services.GetRequiredService<GatewayPolicyMonitor>();
        app.MapDefaultEndpoints();
        // Before any other work: the exact gRPC method, or UNIMPLEMENTED (proxy routes and gateway-served services alike).
        app.UseMiddleware<MethodResolutionMiddleware>();
        app.MapGatewayReflection();
        app.MapReverseProxy(proxy =>
        {
            // Outermost: measures every call, including the gateway's own rejections.
            proxy.UseMiddleware<RequestMetricsMiddleware>();
            // Next, so it sees the forwarder's error feature after everything below ran.
            proxy.UseMiddleware<BackendErrorMiddleware>();
            // The deadline clock starts on arrival, so everything after it counts against the budget.
            proxy.UseMiddleware<DeadlineMiddleware>();
            proxy.UseMiddleware<TenancyMiddleware>();
            proxy.UseMiddleware<TenantRateLimitMiddleware>();
            // Before a route permit is taken: an oversized message is refused by its 5-byte frame header.
            proxy.UseMiddleware<MessageSizeMiddleware>();
            proxy.UseMiddleware<GatewayCriticality>();
            proxy.UseMiddleware<RouteBulkheadMiddleware>();
            // Last before the forwarder: forwards what is left of the deadline.
            proxy.UseMiddleware<DeadlineForwardingMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
