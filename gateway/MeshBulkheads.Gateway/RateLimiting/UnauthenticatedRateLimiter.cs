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
    private readonly GatewayPolicyMonitor _monitor;
    private volatile TokenBucket _bucket;

    public UnauthenticatedRateLimiter(GatewayPolicyMonitor monitor)
    {
        _monitor = monitor;
        _bucket = new TokenBucket(monitor.Current.Options.UnauthenticatedLimit);
        monitor.Changed += OnPolicyChanged;
    }

    /// <summary>Takes one token for a call that failed (or will fail) authentication.</summary>
    public RateLimitDecision TryAcquire()
    {
        while (true)
        {
            var bucket = _bucket;
            try
            {
                return bucket.TryAcquire(1);
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(bucket, _bucket))
            {
                // Replaced by a reload: use the new bucket.
            }
        }
    }

    public void Dispose()
    {
        _monitor.Changed -= OnPolicyChanged;
        _bucket.Dispose();
    }

    private void OnPolicyChanged(GatewayPolicy policy)
    {
        var previous = _bucket;
        _bucket = new TokenBucket(policy.Options.UnauthenticatedLimit);
        previous.Dispose();
    }
}
