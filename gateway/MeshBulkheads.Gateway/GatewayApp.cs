using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Gateway.ClientSources;
using MeshBulkheads.Gateway.Deadlines;
using MeshBulkheads.Gateway.Faults;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Identity;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.Reflection;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Gateway;

/// <summary>Builds the gateway host; tests call <see cref="Build(string[], Action{WebApplicationBuilder})"/> with their own configuration.</summary>
/// <remarks>Each feature folder registers itself (<c>AddGateway&lt;Feature&gt;()</c>); this file only composes them and orders the middlewares.</remarks>
public static class GatewayApp
{
    public const string ServiceName = "gateway";

    /// <summary>The YARP configuration section (routes and clusters).</summary>
    public const string ReverseProxySectionName = "ReverseProxy";

    /// <summary>
    /// The gateway's per-call features in pipeline order. Every host runs all of them; the in-process pipeline
    /// benchmark (tools/MeshBulkheads.Benchmarks) builds the gateway with only the first n to measure what each
    /// one adds (µs and bytes per call).
    /// </summary>
    internal static readonly string[] PipelineFeatures =
    [
        "method-resolution", "request-metrics", "backend-errors", "deadline", "tenancy", "tenant-rate-limit",
        "grpc-request", "message-size", "criticality", "route-bulkhead", "deadline-forwarding", "identity", "faults",
    ];

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        Build(args, configure, int.MaxValue);

    /// <summary>The gateway with the first <paramref name="features"/> of <see cref="PipelineFeatures"/> (the benchmark's ladder).</summary>
    internal static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure, int features)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(GatewayApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8080, defaultAdminPort: 9080);
        // The gateway's own gRPC services (reflection, health) are not admitted through bulkheads: metrics, and an idle
        // timeout for their streams without a valid API key.
        builder.Services.AddGrpc(o =>
        {
            o.AddMeshMetricsInterceptor();
            o.Interceptors.Add<UnauthenticatedStreamInterceptor>();
        });
        builder.Services.AddGatewayReflection();
        // Live view of the section: routes and clusters added by `configure` or a reload are YARP's too.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection(ReverseProxySectionName))
            .AddGatewayTelemetry()
            .AddGatewayClientSources()
            .AddGatewayTenancy()
            .AddGatewayRateLimiting()
            .AddGatewayDeadlines()
            .AddGatewayRouteBulkheads()
            .AddGatewayIdentity()
            .AddGatewayForwarding();
        configure?.Invoke(builder);
        // Last, after every AddGrpc: the gateway's own services answer an undecodable request INTERNAL (issue 15, K1).
        builder.Services.AddMeshRequestDecoding();

        var app = builder.Build();
        // Created now, not on the first call, so reloads before the first call are applied and counted.
        app.Services.GetRequiredService<GatewayPolicyMonitor>();
        app.MapDefaultEndpoints();
        var included = 0;
        void Use<TMiddleware>(IApplicationBuilder pipeline)
        {
            if (included++ < features)
            {
                pipeline.UseMiddleware<TMiddleware>();
            }
        }

        // First: the client's address from X-Forwarded-For, only when a configured proxy sent it. With no proxy configured
        // the middleware is left out (with empty lists ASP.NET Core's would believe every peer).
        if (app.Services.GetRequiredService<IOptions<GatewayForwardedHeadersOptions>>().Value.TrustsAnyPeer)
        {
            app.UseForwardedHeaders();
        }

        // Before any other work: the exact gRPC method, or UNIMPLEMENTED (proxy routes and gateway-served services alike).
        Use<MethodResolutionMiddleware>(app);
        app.MapGatewayReflection();
        app.MapReverseProxy(proxy =>
        {
            // Outermost: measures every call, including the gateway's own rejections.
            Use<RequestMetricsMiddleware>(proxy);
            // Next, so it sees the forwarder's error feature after everything below ran.
            Use<BackendErrorMiddleware>(proxy);
            // The deadline clock starts on arrival, so everything after it counts against the budget.
            Use<DeadlineMiddleware>(proxy);
            Use<TenancyMiddleware>(proxy);
            Use<TenantRateLimitMiddleware>(proxy);
            // Only a gRPC call is forwarded: 404 / 415 as the services answer, after a plain HTTP caller got its 401 / 429.
            Use<GrpcRequestMiddleware>(proxy);
            // Before a route permit is taken: an oversized message is refused by its 5-byte frame header.
            Use<MessageSizeMiddleware>(proxy);
            Use<GatewayCriticality>(proxy);
            Use<RouteBulkheadMiddleware>(proxy);
            // Forwards what is left of the deadline.
            Use<DeadlineForwardingMiddleware>(proxy);
            // Then signs what was decided (tenant, method, criticality, deadline) for the one service it goes to.
            Use<IdentityMiddleware>(proxy);
            // Last before the forwarder: the faults PUT /faults switched on (docs/faults.md).
            Use<GatewayFaultMiddleware>(proxy);
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        if (included != PipelineFeatures.Length)
        {
            throw new InvalidOperationException($"{nameof(PipelineFeatures)} names {PipelineFeatures.Length} features but the pipeline has {included}: keep the list in step with the middlewares.");
        }

        return app;
    }
}
