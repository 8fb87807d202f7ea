using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.ServiceDefaults.Tenancy;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// Fails the start (and rejects a reload) on unusable tenancy settings; every message names the
/// setting and the tenant, and none contains a key. In the Production environment (the default when
/// <c>ASPNETCORE_ENVIRONMENT</c>/<c>DOTNET_ENVIRONMENT</c> is unset) it also refuses keys shorter than
/// <see cref="ApiKeyHash.MinimumProductionLength"/> characters and the keys this repository ships, wherever they are
/// configured (<c>Gateway:Tenants</c> or the keys file). A key the file holds only as its stored hash has no length to
/// check (<c>meshload key-hash</c> refuses short keys when it makes one); a demo key's hash is still refused.
/// </summary>
internal sealed class GatewayTenancyOptionsValidator(IHostEnvironment environment) : IValidateOptions<GatewayTenancyOptions>
{
    private const string Tenants = GatewayTenancyOptions.SectionName + ":" + nameof(GatewayTenancyOptions.Tenants);

    public ValidateOptionsResult Validate(string? name, GatewayTenancyOptions options)
    {
        var failures = new List<string>(options.ApiKeysFileErrors);
        if (options.Tenants.Count == 0)
        {
            failures.Add($"{Tenants} is empty: configure at least one tenant with Id, Tier and ApiKey.");
        }

        if (options.ApiKeysFileCheckInterval < TimeSpan.FromMilliseconds(100) || options.ApiKeysFileCheckInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{GatewayTenancyOptions.SectionName}:{nameof(GatewayTenancyOptions.ApiKeysFileCheckInterval)} '{options.ApiKeysFileCheckInterval}' is outside 00:00:00.100 to 01:00:00.");
        }

        if (options.UnauthenticatedStreamIdleTimeout < TimeSpan.FromSeconds(1) || options.UnauthenticatedStreamIdleTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{GatewayTenancyOptions.SectionName}:{nameof(GatewayTenancyOptions.UnauthenticatedStreamIdleTimeout)} '{options.UnauthenticatedStreamIdleTimeout}' is outside 00:00:01 to 01:00:00.");
        }

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        // Every key of every tenant by its hash (keys in the file may be hashes only): no key may open two tenants, or one twice.
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var tenant = options.Tenants[i];
            var prefix = tenant.Source ?? $"{Tenants}:{i}";
            var idSetting = tenant.Source ?? $"{prefix}:Id";
            if (string.IsNullOrWhiteSpace(tenant.Id))
            {
                failures.Add($"{idSetting} is empty.");
            }
            else if (!TenantMetadata.IsValidId(tenant.Id))
            {
                // The services' own rule: a tenant they would refuse in x-tenant-id must not start here.
                failures.Add($"{idSetting} '{tenant.Id}' is not a valid tenant id: it must be {TenantMetadata.IdRule} (the rule every service applies to x-tenant-id).");
            }
            else if (!ids.TryAdd(tenant.Id, idSetting))
            {
                failures.Add($"{idSetting} '{tenant.Id}' duplicates {ids[tenant.Id]}.");
            }

            if (!TenantTiers.IsKnown(tenant.Tier))
            {
                failures.Add($"{prefix}:Tier '{tenant.Tier}' is not a known tier ({string.Join('|', TenantTiers.All)}).");
            }

            if (tenant.Source is null && string.IsNullOrWhiteSpace(tenant.ApiKey))
            {
                failures.Add($"{prefix}:ApiKey is empty for tenant '{tenant.Id}' (set it, or provide it in {GatewayTenancyOptions.SectionName}:{nameof(GatewayTenancyOptions.ApiKeysFile)}).");
            }

            var tenantKeys = new List<StoredApiKey>(tenant.FileKeys);
            if (!string.IsNullOrWhiteSpace(tenant.ApiKey))
            {
                tenantKeys.Insert(0, new StoredApiKey(ApiKeyHash.Compute(tenant.ApiKey), tenant.ApiKey.Length, $"{prefix}:ApiKey"));
            }

            foreach (var key in tenantKeys)
            {
                if (!keys.TryAdd(Convert.ToHexString(key.Hash), key.Setting))
                {
                    // Name both settings, never the key itself.
                    failures.Add($"{key.Setting} of tenant '{tenant.Id}' duplicates {keys[Convert.ToHexString(key.Hash)]}: every tenant needs its own key.");
                }
                else if (environment.IsProduction() && DemoApiKeys.IsDemoKeyHash(key.Hash))
                {
                    failures.Add($"{key.Setting} of tenant '{tenant.Id}' is one of the demo keys this repository ships: Production refuses them (generate one: meshload key-new, or openssl rand -base64 32; the chart generates one per tenant).");
                }
                else if (environment.IsProduction() && key.KeyLength < ApiKeyHash.MinimumProductionLength)
                {
                    failures.Add($"{key.Setting} of tenant '{tenant.Id}' has {key.KeyLength} characters: Production needs at least {ApiKeyHash.MinimumProductionLength} random ones (meshload key-new, or openssl rand -base64 32; the chart generates them).");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
