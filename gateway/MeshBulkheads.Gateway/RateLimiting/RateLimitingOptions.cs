using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// Where tenant rate-limit state lives, section <c>Gateway:RateLimiting</c>. Read at start: changing
/// the store needs a restart (the tiers, costs and tenants still reload live).
/// </summary>
public sealed class RateLimitingOptions : IValidatableObject
{
    public const string SectionName = "Gateway:RateLimiting";

    /// <summary><c>InProcess</c> (the default) or <c>Redis</c>.</summary>
    public RateLimitStore Store { get; set; } = RateLimitStore.InProcess;

    /// <summary>The Redis store's settings (<c>Gateway:RateLimiting:Redis</c>); required when <see cref="Store"/> is <c>Redis</c>.</summary>
    [ValidateObjectMembers]
    public RedisRateLimitOptions Redis { get; set; } = new();

    /// <summary>The cross-field rule the attributes cannot express; the generated validator calls it.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store == RateLimitStore.Redis && string.IsNullOrWhiteSpace(Redis.Configuration))
        {
            yield return new ValidationResult(
                $"{SectionName}:Redis:Configuration is required when {SectionName}:Store is Redis (a StackExchange.Redis connection string, e.g. 'redis:6379').",
                [nameof(Redis)]);
        }
    }
}

/// <summary>The Redis rate-limit store (<c>Gateway:RateLimiting:Redis</c>).</summary>
public sealed class RedisRateLimitOptions
{
    /// <summary>A StackExchange.Redis connection string, e.g. <c>redis:6379</c> or <c>redis:6379,password=…</c>. No default.</summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of every bucket key (<c>&lt;prefix&gt;&lt;tenant&gt;:&lt;tier&gt;</c>). The default is <c>meshbulkheads:ratelimit:</c>.</summary>
    [Required]
    [MinLength(1)]
    public string KeyPrefix { get; set; } = "meshbulkheads:ratelimit:";

    /// <summary>
    /// The longest a call waits for Redis (connect, and each bucket decision) before the gateway
    /// falls back to its in-process buckets. The default is 250 ms: a slow store must not eat the
    /// call's deadline.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
