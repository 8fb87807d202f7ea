using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Gateway.Tenancy.Internal;

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

    /// <summary>
    /// Where the tenant was defined, for validation messages: null for <c>Gateway:Tenants:N</c>, the keys file's entry for
    /// a tenant the file defines (not bound).
    /// </summary>
    internal string? Source { get; set; }

    /// <summary>The tenant's keys from the keys file's <c>tenants</c> format (not bound): several while one rotates.</summary>
    internal List<StoredApiKey> FileKeys { get; } = [];

    /// <summary>Every live key of the tenant as its SHA-256: <see cref="ApiKey"/> (when set) and <see cref="FileKeys"/>.</summary>
    internal IEnumerable<byte[]> AllKeyHashes()
    {
        if (!string.IsNullOrEmpty(ApiKey))
        {
            yield return ApiKeyHash.Compute(ApiKey);
        }

        foreach (var key in FileKeys)
        {
            yield return key.Hash;
        }
    }
}
