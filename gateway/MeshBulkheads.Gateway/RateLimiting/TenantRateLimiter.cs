using System.Collections.Concurrent;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting.Internal;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// One token bucket per (configuration generation, tenant, tier); a call takes its route's cost in
/// tokens. Partitions of older generations are dropped on reload.
/// </summary>
/// <remarks>
/// ASP.NET Core's rate-limiting middleware asks for one permit per request and keeps a partition's
/// limiter until it has been idle, so a new tier rate would never reach a tenant that is always busy.
/// Here an accepted reload starts a new generation: every tenant's next call gets a bucket with the
/// new limits (starting full, i.e. one fresh burst per reload). Only authenticated tenants get a
/// bucket, so the number of buckets is bounded by the configured tenants. Buckets refill by elapsed
/// <see cref="TimeProvider"/> time and own no timer: a replaced generation is simply dropped, and a
/// bucket a call creates in it while a reload replaces it is collected with it.
/// </remarks>
public sealed class TenantRateLimiter : ITenantRateLimiter, IDisposable
{
    private readonly PolicyBound<Generation> _generation;

    public TenantRateLimiter(GatewayPolicyMonitor monitor, TimeProvider timeProvider) =>
        _generation = new PolicyBound<Generation>(monitor, policy => new Generation(policy, timeProvider));

    /// <summary>Takes the cost of a call on <paramref name="routeId"/> from <paramref name="tenant"/>'s bucket.</summary>
    public RateLimitDecision TryAcquire(GatewayTenant tenant, string routeId)
    {
        var generation = _generation.Current;
        var bucket = generation.Buckets.GetOrAdd((tenant.Id, tenant.Tier), static (key, g) => g.CreateBucket(key.Tier), generation);
        // A reload between lookup and acquire charges the old generation's bucket once: harmless, it is being dropped.
        return bucket.TryAcquire(generation.Policy.Options.CostOf(routeId));
    }

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> TryAcquireAsync(GatewayTenant tenant, string routeId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryAcquire(tenant, routeId));

    public void Dispose() => _generation.Dispose();

    private sealed class Generation(GatewayPolicy policy, TimeProvider timeProvider)
    {
        public GatewayPolicy Policy { get; } = policy;

        public ConcurrentDictionary<(string Tenant, string Tier), TokenBucket> Buckets { get; } = new();

        public TokenBucket CreateBucket(string tier) =>
            // Tenancy validation admits only known tiers and policy validation requires every known tier.
            new(Policy.Options.Tiers.TryGetValue(tier, out var limit) ? limit : Policy.Options.Tiers[TenantTiers.Bronze], timeProvider);
    }
}
