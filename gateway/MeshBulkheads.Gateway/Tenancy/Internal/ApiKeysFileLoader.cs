using System.Text.Json;
using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// Reads <see cref="GatewayTenancyOptions.ApiKeysFile"/> into the tenants, every time the options are built (at start, on a
/// configuration reload, and when <see cref="ApiKeysFileWatcher"/> sees the file change). Problems are collected for the
/// validator, so a bad file fails the start (or is refused as a reload, keeping the last good keys) with a message naming
/// the setting and the tenant, and never with a key in it.
/// </summary>
/// <remarks>
/// Three formats. The <c>tenants</c> format defines tenants of its own, each with a tier and one or more keys (stored
/// <c>sha256:</c> hashes from <c>meshload key-hash</c>, or keys):
/// <c>{"tenants": {"acme": {"tier": "gold", "keys": ["sha256:…", "sha256:…"]}}}</c>; a tenant it defines must not also be
/// in <c>Gateway:Tenants</c>. The two older formats (a JSON object <c>{"acme": "key"}</c>, or lines <c>tenant=key</c>) only
/// replace the key of a tenant configured in <c>Gateway:Tenants</c>, as before.
/// </remarks>
internal sealed class ApiKeysFileLoader : IPostConfigureOptions<GatewayTenancyOptions>
{
    internal const string Setting = GatewayTenancyOptions.SectionName + ":" + nameof(GatewayTenancyOptions.ApiKeysFile);

    /// <summary>The root property of the format that defines tenants.</summary>
    internal const string TenantsProperty = "tenants";

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public void PostConfigure(string? name, GatewayTenancyOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ApiKeysFile))
        {
            return;
        }

        Dictionary<string, string> keys;
        try
        {
            var text = File.ReadAllText(options.ApiKeysFile);
            if (!text.TrimStart().StartsWith('{'))
            {
                keys = ParseLines(text, options.ApiKeysFileErrors);
            }
            else
            {
                using var document = JsonDocument.Parse(text, DocumentOptions);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty(TenantsProperty, out var tenants)
                    && tenants.ValueKind == JsonValueKind.Object)
                {
                    AddTenants(tenants, options);
                    return;
                }

                keys = ParseJson(text, options.ApiKeysFileErrors);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // The exception message names the path or the JSON position, never the file's content.
            options.ApiKeysFileErrors.Add($"{Setting} '{options.ApiKeysFile}' could not be read: {e.GetType().Name}: {e.Message}");
            return;
        }

        foreach (var (tenantId, key) in keys)
        {
            var tenant = options.Tenants.Find(t => string.Equals(t.Id, tenantId, StringComparison.Ordinal));
            if (tenant is null)
            {
                options.ApiKeysFileErrors.Add($"{Setting} names tenant '{tenantId}', which is not in {GatewayTenancyOptions.SectionName}:Tenants.");
                continue;
            }

            tenant.ApiKey = key;
        }
    }

    /// <summary>The <c>tenants</c> format: every entry becomes a tenant of its own, with its keys.</summary>
    private static void AddTenants(JsonElement tenants, GatewayTenancyOptions options)
    {
        var errors = options.ApiKeysFileErrors;
        foreach (var entry in tenants.EnumerateObject())
        {
            var tenantId = entry.Name.Trim();
            var source = $"{Setting}:{TenantsProperty}:{tenantId}";
            if (options.Tenants.Exists(t => string.Equals(t.Id, tenantId, StringComparison.Ordinal)))
            {
                errors.Add($"{source}: tenant '{tenantId}' is also in {GatewayTenancyOptions.SectionName}:Tenants; define each tenant in one place.");
                continue;
            }

            if (entry.Value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{source} is not an object {{\"tier\": …, \"keys\": […]}}.");
                continue;
            }

            var tenant = new TenantConfig { Id = tenantId, Source = source };
            var hasKeys = false;
            foreach (var property in entry.Value.EnumerateObject())
            {
                if (property.NameEquals("tier") && property.Value.ValueKind == JsonValueKind.String)
                {
                    tenant.Tier = property.Value.GetString()!.Trim();
                }
                else if (property.NameEquals("keys") && property.Value.ValueKind == JsonValueKind.Array)
                {
                    hasKeys = true;
                    AddKeys(property.Value, tenant, errors);
                }
                else
                {
                    // Strict, like the chart's schema: a misspelt "key" must not leave the tenant without keys unnoticed.
                    errors.Add($"{source}:{property.Name} is not a setting of a tenant (tier: a string, keys: an array of strings).");
                }
            }

            if (!hasKeys || tenant.FileKeys.Count == 0)
            {
                errors.Add($"{source} has no keys: give tenant '{tenantId}' at least one (meshload key-hash prints a key's stored form), or remove the tenant.");
            }

            options.Tenants.Add(tenant);
        }
    }

    private static void AddKeys(JsonElement keys, TenantConfig tenant, List<string> errors)
    {
        var index = 0;
        foreach (var key in keys.EnumerateArray())
        {
            var setting = $"{tenant.Source}:keys:{index++}";
            var value = key.ValueKind == JsonValueKind.String ? key.GetString()!.Trim() : null;
            if (string.IsNullOrEmpty(value))
            {
                errors.Add($"{setting} of tenant '{tenant.Id}' is not a non-empty string.");
            }
            else if (ApiKeyHash.LooksStored(value))
            {
                if (ApiKeyHash.TryParse(value, out var hash))
                {
                    tenant.FileKeys.Add(new StoredApiKey(hash, null, setting));
                }
                else
                {
                    errors.Add($"{setting} of tenant '{tenant.Id}' starts with '{ApiKeyHash.Prefix}' but is not {ApiKeyHash.Prefix} and 64 hex digits (meshload key-hash prints one).");
                }
            }
            else
            {
                // A key itself (the older way): hashed here, its length kept for Production's minimum.
                tenant.FileKeys.Add(new StoredApiKey(ApiKeyHash.Compute(value), value.Length, setting));
            }
        }
    }

    private static Dictionary<string, string> ParseJson(string text, List<string> errors)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tenantId, key) in JsonSerializer.Deserialize<Dictionary<string, string?>>(text) ?? [])
        {
            if (key is null)
            {
                // {"acme": null}: name the entry, never guess a key (and never crash the start on it).
                errors.Add($"{Setting}: the entry of tenant '{tenantId.Trim()}' has no key (null); give it a string value or remove it.");
                continue;
            }

            keys[tenantId.Trim()] = key.Trim();
        }

        return keys;
    }

    private static Dictionary<string, string> ParseLines(string text, List<string> errors)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                errors.Add($"{Setting}: line {lineNumber} is not 'tenant=key'.");
                continue;
            }

            keys[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }

        return keys;
    }
}
