using System.Net;

namespace MeshBulkheads.Gateway.ClientSources.Internal;

/// <summary>Fails the start on an address or network that does not parse, naming the entry.</summary>
internal sealed class GatewayForwardedHeadersOptionsValidator : IValidateOptions<GatewayForwardedHeadersOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayForwardedHeadersOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            if (!IPAddress.TryParse(options.KnownProxies[i], out _))
            {
                failures.Add($"{GatewayForwardedHeadersOptions.SectionName}:KnownProxies:{i} '{options.KnownProxies[i]}' is not an IP address.");
            }
        }

        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            if (!IPNetwork.TryParse(options.KnownNetworks[i], out _))
            {
                failures.Add($"{GatewayForwardedHeadersOptions.SectionName}:KnownNetworks:{i} '{options.KnownNetworks[i]}' is not a network in CIDR notation (e.g. 10.0.0.0/8).");
            }
        }

        if (options.ForwardLimit is < 1 or > 10)
        {
            failures.Add($"{GatewayForwardedHeadersOptions.SectionName}:ForwardLimit is {options.ForwardLimit}: it must be between 1 and 10.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
