using System.Text.Json;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// Merges the keys of <see cref="GatewayTenancyOptions.ApiKeysFile"/> into the tenants. Problems are
/// collected for the validator, so a bad file fails the start (or a reload) with a message naming
/// the setting, and never with a key in it.
/// </summary>
internal sealed class ApiKeysFileLoader : IPostConfigureOptions<GatewayTenancyOptions>
{
    private const string Setting = GatewayTenancyOptions.SectionName + ":" + nameof(GatewayTenancyOptions.ApiKeysFile);

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
            keys = text.TrimStart().StartsWith('{') ? ParseJson(text, options.ApiKeysFileErrors) : ParseLines(text, options.ApiKeysFileErrors);
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
