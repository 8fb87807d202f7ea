using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting.Internal;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// One bucket (<c>Gateway:UnauthenticatedLimit</c>) shared by every call that fails authentication,
/// so a flood of missing or bad keys costs the gateway a bounded amount of work and log volume and
/// never touches the tenants' buckets.
/// </summary>
public sealed class UnauthenticatedRateLimiter : IDisposable
{
    // The bucket owns no timer (elapsed-time refill): the one a reload replaces needs no disposal.
    private readonly PolicyBound<TokenBucket> _bucket;

    public UnauthenticatedRateLimiter(GatewayPolicyMonitor monitor, TimeProvider timeProvider) =>
        _bucket = new PolicyBound<TokenBucket>(monitor, policy => new TokenBucket(policy.Options.UnauthenticatedLimit, timeProvider));

    /// <summary>Takes one token for a call that failed (or will fail) authentication.</summary>
    public RateLimitDecision TryAcquire() => _bucket.Current.TryAcquire(1);

    public void Dispose() => _bucket.Dispose();
}
