using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Gateway.Identity.Internal;

/// <summary>Refuses to start a gateway that could not sign, naming the setting and never the key.</summary>
internal sealed class GatewayIdentityOptionsValidator : IValidateOptions<GatewayIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayIdentityOptions options)
    {
        const string Section = GatewayIdentityOptions.SectionName;
        var failures = new List<string>();
        if (!MeshIdentityToken.IsValidKeyId(options.SigningKeyId))
        {
            failures.Add($"{Section}:SigningKeyId '{options.SigningKeyId}' must be 1-32 characters of a-z, 0-9 and '-' (the key id tokens are signed with).");
        }

        if (options.Keys.Count == 0)
        {
            failures.Add(
                $"{Section}:Keys is empty: the services refuse every call the gateway has not signed. Set {Section}:Keys:<service>:<kid> to the base64 of at least "
                + $"{MeshIdentityToken.MinKeyBytes} random bytes, the same value as that service's Mesh:Identity:Keys:<kid> (`make run` generates them; the chart keeps them in a Secret).");
        }

        foreach (var (audience, keys) in options.Keys)
        {
            foreach (var (keyId, key) in keys)
            {
                if (!MeshIdentityToken.IsValidKeyId(keyId))
                {
                    failures.Add($"{Section}:Keys:{audience}:{keyId}: a key id must be 1-32 characters of a-z, 0-9 and '-'.");
                }
                else if (MeshIdentityToken.DecodeKey(key) is null)
                {
                    failures.Add($"{Section}:Keys:{audience}:{keyId} is not the base64 of at least {MeshIdentityToken.MinKeyBytes} bytes.");
                }
            }

            if (MeshIdentityToken.IsValidKeyId(options.SigningKeyId) && !keys.ContainsKey(options.SigningKeyId))
            {
                failures.Add($"{Section}:Keys:{audience} has no key '{options.SigningKeyId}' ({Section}:SigningKeyId): calls to '{audience}' could not be signed.");
            }
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromSeconds(60))
        {
            failures.Add($"{Section}:ClockSkew must be between 0 and 60 seconds; got {options.ClockSkew}.");
        }

        for (var i = 0; i < options.Delegations.Count; i++)
        {
            var delegation = options.Delegations[i];
            if (!delegation.Method.StartsWith('/') || !delegation.DelegatedMethod.StartsWith('/') || string.IsNullOrWhiteSpace(delegation.Audience))
            {
                failures.Add($"{Section}:Delegations:{i} needs Method and DelegatedMethod as '/package.Service/Method' paths and an Audience.");
            }
            else if (!options.Keys.ContainsKey(delegation.Audience))
            {
                failures.Add($"{Section}:Delegations:{i}: no keys for its audience '{delegation.Audience}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
