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
/// bucket, so the number of buckets is bounded by the configured tenants.
/// </remarks>
public sealed class TenantRateLimiter : ITenantRateLimiter, IDisposable
{
    private readonly GatewayPolicyMonitor _monitor;
    private volatile Generation _generation;

    public TenantRateLimiter(GatewayPolicyMonitor monitor)
    {
        _monitor = monitor;
        _generation = new Generation(monitor.Current);
        monitor.Changed += OnPolicyChanged;
    }

    /// <summary>The generation the buckets belong to.</summary>
    public long CurrentGeneration => _generation.Policy.Generation;

    /// <summary>Takes the cost of a call on <paramref name="routeId"/> from <paramref name="tenant"/>'s bucket.</summary>
    public RateLimitDecision TryAcquire(GatewayTenant tenant, string routeId)
    {
        while (true)
        {
            var generation = _generation;
            var bucket = generation.Buckets.GetOrAdd((tenant.Id, tenant.Tier), static (key, g) => g.CreateBucket(key.Tier), generation);
            try
            {
                return bucket.TryAcquire(generation.Policy.Options.CostOf(routeId));
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(generation, _generation))
            {
                // A reload replaced the bucket between lookup and acquire: ask the new generation.
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> TryAcquireAsync(GatewayTenant tenant, string routeId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TryAcquire(tenant, routeId));

    public void Dispose()
    {
        _monitor.Changed -= OnPolicyChanged;
        _generation.Dispose();
    }

    private void OnPolicyChanged(GatewayPolicy policy)
    {
        var previous = _generation;
        _generation = new Generation(policy);
        previous.Dispose();
    }

    private sealed class Generation(GatewayPolicy policy) : IDisposable
    {
        public GatewayPolicy Policy { get; } = policy;

        public ConcurrentDictionary<(string Tenant, string Tier), TokenBucket> Buckets { get; } = new();

        public TokenBucket CreateBucket(string tier) =>
            // Tenancy validation admits only known tiers and policy validation requires every known tier.
            new(Policy.Options.Tiers.TryGetValue(tier, out var limit) ? limit : Policy.Options.Tiers[TenantTiers.Bronze]);

        public void Dispose()
        {
            foreach (var bucket in Buckets.Values)
            {
                bucket.Dispose();
            }
        }
    }
}
