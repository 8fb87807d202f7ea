using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace MeshBulkheads.Gateway.ClientSources.Internal;

/// <summary>
/// ASP.NET Core's <see cref="ForwardedHeadersOptions"/> from <see cref="GatewayForwardedHeadersOptions"/>: only
/// <c>X-Forwarded-For</c>, only from the configured proxies and networks (the framework's default loopback entries are
/// removed: a process on the gateway's host is not a proxy unless configured).
/// </summary>
internal sealed class ForwardedHeadersOptionsSetup(IOptions<GatewayForwardedHeadersOptions> gatewayOptions) : IConfigureOptions<ForwardedHeadersOptions>
{
    public void Configure(ForwardedHeadersOptions options)
    {
        var configured = gatewayOptions.Value;
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        options.ForwardLimit = configured.ForwardLimit;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in configured.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in configured.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }
    }
}
