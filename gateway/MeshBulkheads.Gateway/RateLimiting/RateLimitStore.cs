namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>Where the tenants' token buckets live (<c>Gateway:RateLimiting:Store</c>).</summary>
public enum RateLimitStore
{
    /// <summary>In each gateway process: N replicas give each tenant N times its rate. The default.</summary>
    InProcess = 0,

    /// <summary>In one Redis server shared by every replica: one global limit per tenant.</summary>
    Redis,
}
