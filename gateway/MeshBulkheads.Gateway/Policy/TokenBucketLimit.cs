namespace MeshBulkheads.Gateway.Policy;

/// <summary>A token bucket: a sustained rate and a burst (the bucket's size).</summary>
public sealed class TokenBucketLimit
{
    /// <summary>Tokens added per second (the sustained rate). Range 0.01 to 1 000 000.</summary>
    public double TokensPerSecond { get; set; }

    /// <summary>The bucket's size: how many tokens a tenant may spend at once after being idle. Range 1 to 1 000 000.</summary>
    public int Burst { get; set; }
}
