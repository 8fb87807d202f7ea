using System.Net;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.RateLimiting.Internal;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// The limit on calls that fail authentication (<c>Gateway:UnauthenticatedLimit</c>), per client source: one bucket per
/// client address (after forwarded headers from configured proxies; an IPv6 address by its /64), at most
/// <c>Gateway:UnauthenticatedSources</c> sources tracked (the least recently used dropped first). A flood of missing or bad
/// keys from one source is slowed and answered <c>RESOURCE_EXHAUSTED</c> while every other source's bad key still gets
/// <c>UNAUTHENTICATED</c>; it never touches the tenants' buckets.
/// </summary>
public sealed class UnauthenticatedRateLimiter : IDisposable
{
    // The buckets own no timer (elapsed-time refill): the limiter a reload replaces needs no disposal.
    private readonly PolicyBound<SourcePartitionedRateLimiter> _limiter;

    public UnauthenticatedRateLimiter(GatewayPolicyMonitor monitor, TimeProvider timeProvider) =>
        _limiter = new PolicyBound<SourcePartitionedRateLimiter>(monitor, policy =>
            new SourcePartitionedRateLimiter(policy.Options.UnauthenticatedLimit, policy.Options.UnauthenticatedSources, timeProvider));

    /// <summary>The sources tracked now (at most <c>Gateway:UnauthenticatedSources</c>).</summary>
    internal int SourceCount => _limiter.Current.PartitionCount;

    /// <summary>Takes one token of <paramref name="source"/>'s bucket for a call that failed (or will fail) authentication.</summary>
    public RateLimitDecision TryAcquire(IPAddress? source) => _limiter.Current.TryAcquire(source);

    public void Dispose() => _limiter.Dispose();
}
