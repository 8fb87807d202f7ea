using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// Takes a call's route cost from its tenant's token bucket. <see cref="TenantRateLimiter"/> keeps the
/// buckets in the process; <see cref="Redis.RedisTenantRateLimiter"/> shares them between replicas.
/// Both answer the same <see cref="RateLimitDecision"/>, so the rejection, metrics and tiers are identical.
/// </summary>
public interface ITenantRateLimiter
{
    /// <summary>Takes the cost of a call on <paramref name="routeId"/> from <paramref name="tenant"/>'s bucket.</summary>
    ValueTask<RateLimitDecision> TryAcquireAsync(GatewayTenant tenant, string routeId, CancellationToken cancellationToken);
}
