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

        if (!Redis.Tls && (Redis.TlsCaFile is not null || Redis.TlsHost is not null))
        {
            // Never a silent cleartext connection when someone configured how to check the server's certificate.
            yield return new ValidationResult(
                $"{SectionName}:Redis:TlsCaFile and TlsHost apply only to TLS: set {SectionName}:Redis:Tls to true.",
                [nameof(Redis)]);
        }

        if (Store == RateLimitStore.Redis && Redis.Tls && Redis.TlsCaFile is { } caFile && !File.Exists(caFile))
        {
            yield return new ValidationResult(
                $"{SectionName}:Redis:TlsCaFile '{caFile}' does not exist (the PEM certificate of the CA that issued Redis's certificate, e.g. a mounted Secret's ca.crt).",
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

    /// <summary>
    /// TLS to Redis (<c>Gateway:RateLimiting:Redis:Tls</c>), TLS 1.2 or 1.3, the server's certificate checked against
    /// <see cref="TlsCaFile"/> or the machine's trust store. <c>ssl=true</c> in <see cref="Configuration"/> turns it on as
    /// well. The default is false (cleartext, the chart's in-cluster Redis unless <c>redis.tls.enabled</c>).
    /// </summary>
    public bool Tls { get; set; }

    /// <summary>
    /// The certificate (PEM or DER) of the CA that issued Redis's certificate, e.g. a mounted Secret's <c>ca.crt</c>; the
    /// server's chain must end at it. Default none: the machine's trust store. Requires <see cref="Tls"/>.
    /// </summary>
    public string? TlsCaFile { get; set; }

    /// <summary>The name Redis's certificate must carry (and SNI). Default none: the host of <see cref="Configuration"/>. Requires <see cref="Tls"/>.</summary>
    public string? TlsHost { get; set; }
}
