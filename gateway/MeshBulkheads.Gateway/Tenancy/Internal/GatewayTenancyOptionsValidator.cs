using MeshBulkheads.ServiceDefaults.Tenancy;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// Fails the start (and rejects a reload) on unusable tenancy settings; every message names the
/// setting and the tenant, and none contains a key. In the Production environment (the default when
/// <c>ASPNETCORE_ENVIRONMENT</c>/<c>DOTNET_ENVIRONMENT</c> is unset) it also refuses keys shorter than
/// <see cref="DemoApiKeys.MinimumProductionLength"/> characters and the keys this repository ships.
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

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var tenant = options.Tenants[i];
            var prefix = $"{Tenants}:{i}";
            if (string.IsNullOrWhiteSpace(tenant.Id))
            {
                failures.Add($"{prefix}:Id is empty.");
            }
            else if (!TenantMetadata.IsValidId(tenant.Id))
            {
                // The services' own rule: a tenant they would refuse in x-tenant-id must not start here.
                failures.Add($"{prefix}:Id '{tenant.Id}' is not a valid tenant id: it must be {TenantMetadata.IdRule} (the rule every service applies to x-tenant-id).");
            }
            else if (!ids.TryAdd(tenant.Id, i))
            {
                failures.Add($"{prefix}:Id '{tenant.Id}' duplicates {Tenants}:{ids[tenant.Id]}:Id.");
            }

            if (!TenantTiers.IsKnown(tenant.Tier))
            {
                failures.Add($"{prefix}:Tier '{tenant.Tier}' is not a known tier ({string.Join('|', TenantTiers.All)}).");
            }

            if (string.IsNullOrWhiteSpace(tenant.ApiKey))
            {
                failures.Add($"{prefix}:ApiKey is empty for tenant '{tenant.Id}' (set it, or provide it in {GatewayTenancyOptions.SectionName}:{nameof(GatewayTenancyOptions.ApiKeysFile)}).");
            }
            else if (!keys.TryAdd(tenant.ApiKey, i))
            {
                // Name both settings, never the key itself.
                failures.Add($"{prefix}:ApiKey of tenant '{tenant.Id}' duplicates {Tenants}:{keys[tenant.ApiKey]}:ApiKey: every tenant needs its own key.");
            }
            else if (environment.IsProduction() && DemoApiKeys.IsDemoKey(tenant.ApiKey))
            {
                failures.Add($"{prefix}:ApiKey of tenant '{tenant.Id}' is one of the demo keys this repository ships: Production refuses them (generate one: openssl rand -base64 32; the chart generates one per tenant).");
            }
            else if (environment.IsProduction() && tenant.ApiKey.Length < DemoApiKeys.MinimumProductionLength)
            {
                failures.Add($"{prefix}:ApiKey of tenant '{tenant.Id}' has {tenant.ApiKey.Length} characters: Production needs at least {DemoApiKeys.MinimumProductionLength} random ones (openssl rand -base64 32; the chart generates them).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
