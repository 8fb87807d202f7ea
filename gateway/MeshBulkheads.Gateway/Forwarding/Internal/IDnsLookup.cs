using System.Net;
using System.Net.Sockets;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// The one DNS call of <see cref="GatewayDestinationResolver"/>, behind an interface so tests can make a name
/// start resolving without a DNS server (the system resolver offers no seam).
/// </summary>
internal interface IDnsLookup
{
    /// <summary>The addresses of <paramref name="host"/>; a <see cref="SocketException"/> when it has none or DNS fails.</summary>
    Task<IPAddress[]> GetHostAddressesAsync(string host, AddressFamily? family, CancellationToken cancellationToken);
}

/// <summary>The operating system's resolver (<see cref="Dns"/>), as YARP's DNS destination resolver calls it.</summary>
internal sealed class SystemDnsLookup : IDnsLookup
{
    public Task<IPAddress[]> GetHostAddressesAsync(string host, AddressFamily? family, CancellationToken cancellationToken) =>
        family is { } f
            ? Dns.GetHostAddressesAsync(host, f, cancellationToken)
            : Dns.GetHostAddressesAsync(host, cancellationToken);
}
