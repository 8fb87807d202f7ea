using MeshBulkheads.ServiceDefaults.Hosting;
using System.Net.Sockets;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Gateway.Deadlines;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Forwarding.Internal;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Policy.Internal;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.RateLimiting.Redis;
using MeshBulkheads.Gateway.Reflection;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;
using MeshBulkheads.Gateway.Tenancy.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace MeshBulkheads.Gateway;

/// <summary>Builds the gateway host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class GatewayApp
{
    public const string ServiceName = "gateway";

    /// <summary>The YARP configuration section (routes and clusters).</summary>
    public const string ReverseProxySection = "ReverseProxy";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(GatewayApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8080, defaultAdminPort: 9080);
        builder.Services.AddGrpc();
        builder.Services.AddGatewayReflection();
        AddGatewayServices(builder.Services, builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        // Created now, not on the first call, so reloads before the first call are applied and counted.
        app.Services.GetRequiredService<GatewayPolicyMonitor>();
        app.MapDefaultEndpoints();
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

    /// <summary>
    /// One shared-library bulkhead per YARP route in configuration at start, named like the route:
    /// gateway defaults here, <c>Bulkheads:&lt;route&gt;</c> overrides them (queue, share), and the
    /// permit limit is always computed from the available destinations.
    /// </summary>
    private static void AddRouteBulkheads(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<RouteCapacity>();
        services.AddHostedService<RouteCapacityMonitor>();
        var builder = services.AddBulkheads();
        foreach (var route in configuration.GetSection(ReverseProxySection + ":Routes").GetChildren().Select(r => r.Key))
        {
            builder.AddBulkhead(route, o =>
            {
                // Services own the real queues: the gateway's stays short (do not stack queues on one path).
                o.QueueLimit = 16;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(200);
                o.CongestionThreshold = TimeSpan.FromMilliseconds(50);
                o.TenantMaxShare = 0.5;
            });
            services.AddOptions<BulkheadOptions>(route).PostConfigure<RouteCapacity>((o, capacity) => o.PermitLimit = capacity.PermitsOf(route));
        }
    }

    /// <summary>
    /// <c>Gateway:RateLimiting:Store</c>: the in-process buckets (default) or Redis, which falls back
    /// to the in-process buckets while it cannot answer. Chosen at start.
    /// </summary>
    private static void AddTenantRateLimitStore(IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<RedisTenantRateLimiter>();
        services.AddHostedService<RedisConnectionWarmup>();
        // Chosen when first resolved, from the final configuration (hosts and tests add sources after this runs).
        services.AddSingleton<ITenantRateLimiter>(sp => sp.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Store == RateLimitStore.Redis
            ? sp.GetRequiredService<RedisTenantRateLimiter>()
            : sp.GetRequiredService<TenantRateLimiter>());
    }

    /// <summary>
    /// <c>Gateway:Destinations:Dns</c>: moves YARP's DNS resolver behind <see cref="GatewayDestinationResolver"/>,
    /// which uses it only when enabled, with the gateway's refresh period (5 s, not YARP's 5 min).
    /// </summary>
    private static void AddDestinationResolver(IServiceCollection services)
    {
        services.AddOptions<DnsDestinationOptions>()
            .BindConfiguration(DnsDestinationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<DnsDestinationResolverOptions>().Configure<IOptions<DnsDestinationOptions>>((o, dns) =>
        {
            o.RefreshPeriod = dns.Value.RefreshPeriod;
            o.AddressFamily = dns.Value.AddressFamily switch
            {
                DnsAddressFamily.IPv4 => AddressFamily.InterNetwork,
                DnsAddressFamily.IPv6 => AddressFamily.InterNetworkV6,
                _ => null,
            };
        });
        var yarpDns = services.Last(d => d.ServiceType == typeof(IDestinationResolver) && !d.IsKeyedService);
        var dnsType = yarpDns.ImplementationType
            ?? throw new InvalidOperationException("AddDnsDestinationResolver no longer registers a type; update GatewayApp.AddDestinationResolver.");
        services.Remove(yarpDns);
        services.AddKeyedSingleton(typeof(IDestinationResolver), GatewayDestinationResolver.DnsKey, (sp, _) => ActivatorUtilities.CreateInstance(sp, dnsType));
        services.AddSingleton<IDestinationResolver, GatewayDestinationResolver>();
    }

    private static void AddGatewayServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<GatewayMetrics>();
        services.TryAddSingleton(TimeProvider.System);

        // Bound without a change-token source: reloads go through GatewayPolicyMonitor, which
        // validates them, keeps the last good policy on failure and counts the failure.
        services.AddOptions<GatewayPolicyOptions>()
            .Configure<IConfiguration>((o, c) => c.GetSection(GatewayPolicyOptions.SectionName).Bind(o))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayPolicyOptions>, GatewayPolicyOptionsValidator>();
        services.AddSingleton<GatewayPolicyMonitor>();
        services.AddSingleton<TenantRateLimiter>();
        AddTenantRateLimitStore(services);
        services.AddSingleton<UnauthenticatedRateLimiter>();

        services.AddOptions<GatewayTenancyOptions>()
            .BindConfiguration(GatewayTenancyOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<GatewayTenancyOptions>, ApiKeysFileLoader>();
        services.AddSingleton<IValidateOptions<GatewayTenancyOptions>, GatewayTenancyOptionsValidator>();
        services.AddSingleton<ApiKeyAuthenticator>();

        services.AddOptions<BackendConnectionOptions>()
            .BindConfiguration(BackendConnectionOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Registered before AddReverseProxy, which only adds its default factory when none is present.
        services.AddSingleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>();

        AddRouteBulkheads(services, configuration);

        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection(ReverseProxySection))
            .AddDnsDestinationResolver();
        AddDestinationResolver(services);
    }
}
