namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>
/// Tenants and their API keys, section <c>Gateway</c>. Validated at start: unique ids and keys,
/// known tiers, non-empty keys.
/// </summary>
public sealed class GatewayTenancyOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The tenants (<c>Gateway:Tenants:N:Id|Tier|ApiKey</c>).</summary>
    public List<TenantConfig> Tenants { get; set; } = [];

    /// <summary>
    /// Optional file with tenants and API keys, e.g. a mounted Kubernetes Secret, watched (<see cref="ApiKeysFileCheckInterval"/>).
    /// The <c>tenants</c> format defines tenants with a tier and several keys each, as stored hashes
    /// (<c>{"tenants": {"acme": {"tier": "gold", "keys": ["sha256:…"]}}}</c>; <c>meshload key-hash</c>); the older formats, a
    /// JSON object <c>{"acme": "key", ...}</c> or lines <c>tenant=key</c> (<c>#</c> starts a comment), replace the
    /// <see cref="TenantConfig.ApiKey"/> of a configured tenant. The default is none.
    /// </summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>
    /// How often the gateway looks whether <see cref="ApiKeysFile"/> changed (its bytes, through symlinks: a Secret's
    /// <c>..data</c> swap included). The default is 5 seconds; 100 ms to 1 hour. Read at start.
    /// </summary>
    public TimeSpan ApiKeysFileCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a stream of the gateway's own (reflection, <c>Health/Watch</c>) without a valid <c>x-api-key</c> may go
    /// without a message from its client before it is ended <c>UNAVAILABLE</c> (<see cref="UnauthenticatedStreamInterceptor"/>).
    /// The default is 30 seconds; 1 second to 1 hour. Read at start.
    /// </summary>
    public TimeSpan UnauthenticatedStreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Problems found while reading <see cref="ApiKeysFile"/>, reported by validation (not bound).</summary>
    internal List<string> ApiKeysFileErrors { get; } = [];
}
