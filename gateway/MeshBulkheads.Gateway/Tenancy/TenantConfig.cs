namespace MeshBulkheads.Gateway.Tenancy;

/// <summary>One tenant in <c>Gateway:Tenants</c>.</summary>
public sealed class TenantConfig
{
    /// <summary>The tenant id forwarded to the services as <c>x-tenant-id</c>. Required, unique.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>The tier: <c>gold</c>, <c>silver</c> or <c>bronze</c> (see <see cref="TenantTiers"/>).</summary>
    public string Tier { get; set; } = string.Empty;

    /// <summary>
    /// The tenant's API key. Required and unique, unless <see cref="GatewayTenancyOptions.ApiKeysFile"/>
    /// supplies it (a Kubernetes Secret mounted as a file). Never logged.
    /// </summary>
    public string? ApiKey { get; set; }
}
