using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.ServiceDefaults.Identity.Internal;

/// <summary>Refuses to start a service without usable identity keys, naming the setting and never the key.</summary>
internal sealed class MeshIdentityOptionsValidator : IValidateOptions<MeshIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshIdentityOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Count == 0)
        {
            failures.Add(
                $"{MeshIdentityOptions.SectionName}:Keys is empty: the '{options.Audience}' service verifies the gateway's identity tokens with them and refuses every call without them. "
                + $"Set {MeshIdentityOptions.SectionName}:Keys:<kid> to the base64 of at least {MeshIdentityToken.MinKeyBytes} random bytes (`make run` generates them; the chart keeps them in a Secret).");
        }

        foreach (var (keyId, key) in options.Keys)
        {
            if (!MeshIdentityToken.IsValidKeyId(keyId))
            {
                failures.Add($"{MeshIdentityOptions.SectionName}:Keys:{keyId}: a key id must be 1-32 characters of a-z, 0-9 and '-'.");
            }
            else if (MeshIdentityToken.DecodeKey(key) is null)
            {
                failures.Add($"{MeshIdentityOptions.SectionName}:Keys:{keyId} is not the base64 of at least {MeshIdentityToken.MinKeyBytes} bytes.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
