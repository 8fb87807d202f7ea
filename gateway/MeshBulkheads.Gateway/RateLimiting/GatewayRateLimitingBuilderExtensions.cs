using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.RateLimiting.Internal;
using MeshBulkheads.Gateway.RateLimiting.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's per-tenant rate limiting (<c>RateLimiting/</c>).</summary>
public static class GatewayRateLimitingBuilderExtensions
{
    /// <summary>
    /// The tier buckets (<c>Gateway:Tiers</c>, through the policy), the bucket for unauthenticated calls, and the store,
    /// <c>Gateway:RateLimiting:Store</c>: the in-process buckets (default) or Redis, which falls back to the in-process
    /// buckets while it cannot answer. With the pitfall switch <c>Mesh:Pitfalls:NoBulkheads</c> the limiter allows every
    /// call (<see cref="NoTenantRateLimiter"/>); the bucket for unauthenticated calls stays (it guards authentication,
    /// not admission).
    /// </summary>
    public static IReverseProxyBuilder AddGatewayRateLimiting(this IReverseProxyBuilder builder)
    {
        builder.AddGatewayPolicy();
        var services = builder.Services;
        services.AddValidatedOptions<RateLimitingOptions, RateLimitingOptionsValidator>(RateLimitingOptions.SectionName);
        services.AddSingleton<TenantRateLimiter>();
        services.AddSingleton<RedisTenantRateLimiter>();
        services.AddHostedService<RedisConnectionWarmup>();
        services.AddMeshPitfalls();
        services.AddSingleton<NoTenantRateLimiter>();
        // Chosen when first resolved, from the final configuration (hosts and tests add sources after this runs).
        services.AddSingleton<ITenantRateLimiter>(sp =>
            sp.GetRequiredService<IOptions<MeshPitfallOptions>>().Value.NoBulkheads ? sp.GetRequiredService<NoTenantRateLimiter>()
            : sp.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Store == RateLimitStore.Redis ? sp.GetRequiredService<RedisTenantRateLimiter>()
            : sp.GetRequiredService<TenantRateLimiter>());
        services.AddSingleton<UnauthenticatedRateLimiter>();
        return builder;
    }
}
