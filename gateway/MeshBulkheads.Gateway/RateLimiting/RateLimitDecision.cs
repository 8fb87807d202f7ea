using MeshBulkheads.Gateway.Policy;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>The outcome of asking a token bucket for a call's tokens.</summary>
/// <param name="Allowed">Whether the tokens were taken.</param>
/// <param name="Cost">The tokens the call needed.</param>
/// <param name="RetryAfter">When rejected: the time until the bucket holds <paramref name="Cost"/> tokens.</param>
/// <param name="Limit">The bucket's rate and burst.</param>
public readonly record struct RateLimitDecision(bool Allowed, int Cost, TimeSpan RetryAfter, TokenBucketLimit Limit);
