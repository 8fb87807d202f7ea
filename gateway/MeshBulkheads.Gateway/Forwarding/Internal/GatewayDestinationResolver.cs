using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// YARP's DNS destination resolver when <c>Gateway:Destinations:Dns:Enabled</c>, the configured
/// addresses as written otherwise. Decided from the final configuration when YARP first asks (hosts
/// and tests add configuration sources after the services are registered, so the choice cannot be
/// made at registration).
/// </summary>
internal sealed class GatewayDestinationResolver(IOptions<DnsDestinationOptions> options, [FromKeyedServices(GatewayDestinationResolver.DnsKey)] IDestinationResolver dns)
    : IDestinationResolver
{
    /// <summary>The key of YARP's DNS resolver (internal in YARP 2.3, so it is reached through DI only).</summary>
    public const string DnsKey = "dns";

    private readonly bool _enabled = options.Value.Enabled;

    public ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken) =>
        _enabled
            ? dns.ResolveDestinationsAsync(destinations, cancellationToken)
            : ValueTask.FromResult(new ResolvedDestinationCollection(destinations, null));
}
