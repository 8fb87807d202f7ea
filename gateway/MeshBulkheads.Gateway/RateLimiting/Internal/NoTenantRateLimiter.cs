using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.RateLimiting.Internal;

/// <summary>
/// The tenant rate limiter under <c>Mesh:Pitfalls:NoBulkheads</c>: every call is allowed (and still counted as
/// <c>allowed</c> by the middleware), so a noisy tenant reaches the services at whatever rate it sends.
/// </summary>
internal sealed class NoTenantRateLimiter : ITenantRateLimiter
{
    private readonly GatewayPolicyMonitor _policy;

    public NoTenantRateLimiter(GatewayPolicyMonitor policy, ILogger<NoTenantRateLimiter> logger)
    {
        _policy = policy;
        GatewayLog.TenantRateLimitsOff(logger, MeshPitfallOptions.NoBulkheadsKey);
    }

    public ValueTask<RateLimitDecision> TryAcquireAsync(GatewayTenant tenant, string routeId, CancellationToken cancellationToken)
    {
        var options = _policy.Current.Options;
        var limit = options.Tiers.TryGetValue(tenant.Tier, out var tier) ? tier : new TokenBucketLimit();
        return ValueTask.FromResult(new RateLimitDecision(true, options.CostOf(routeId), TimeSpan.Zero, limit));
    }
}
