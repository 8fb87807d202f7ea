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
    /// Optional file with API keys, e.g. a mounted Kubernetes Secret: either a JSON object
    /// <c>{"acme": "key", ...}</c> or lines <c>tenant=key</c> (<c>#</c> starts a comment). A key
    /// from the file replaces the tenant's <see cref="TenantConfig.ApiKey"/>. The default is none.
    /// </summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>Problems found while reading <see cref="ApiKeysFile"/>, reported by validation (not bound).</summary>
    internal List<string> ApiKeysFileErrors { get; } = [];
}
