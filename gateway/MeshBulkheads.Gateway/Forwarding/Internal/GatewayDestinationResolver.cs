using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// With <c>Gateway:Destinations:Dns:Enabled</c>, every destination whose address has a host name becomes one
/// destination per address the name resolves to (named <c>&lt;id&gt;[&lt;address&gt;]</c>, the name kept as the
/// Host header, as YARP's DNS resolver does), resolved again every <see cref="DnsDestinationOptions.RefreshPeriod"/>;
/// otherwise the addresses as written.
/// </summary>
/// <remarks>
/// <para>YARP's own DNS resolver throws when one name does not resolve, and YARP stops the host when that happens
/// at start ("Unable to load or apply the proxy configuration"). A Kubernetes headless Service has no record until a
/// backend pod is ready, so the gateway would crash-loop until every backend is up. Here a name that does not resolve
/// costs only its own destinations: the cluster gets none for it for now (calls answer <c>UNAVAILABLE</c>,
/// <c>no-healthy-backend</c>), the failure is logged (throttled per name) and counted
/// (<c>meshbulkheads.gateway.dns.resolution_failures</c>), and the next refresh tries again.</para>
/// <para>A name the DNS says does not exist (<see cref="SocketError.HostNotFound"/>, <see cref="SocketError.NoData"/>:
/// no ready pod) has no destinations. Any other lookup failure (a DNS server timing out) keeps the name's last
/// addresses, so a DNS blip does not empty a healthy cluster.</para>
/// <para>The refresh is timed by <see cref="TimeProvider"/> (tests advance a fake clock). The choice of DNS or not is
/// made from the final configuration when YARP first asks (hosts and tests add configuration sources after the
/// services are registered).</para>
/// </remarks>
internal sealed class GatewayDestinationResolver(
    IOptions<DnsDestinationOptions> options,
    IDnsLookup dns,
    TimeProvider timeProvider,
    GatewayMetrics metrics,
    LogThrottle throttle,
    ILogger<GatewayDestinationResolver> logger) : IDestinationResolver
{
    private readonly DnsDestinationOptions _options = options.Value;

    // Per host name (from configuration, so bounded): the addresses of its last successful lookup, and whether its
    // last lookup failed (to log once when it resolves again).
    private readonly ConcurrentDictionary<string, IPAddress[]> _lastGood = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.OrdinalIgnoreCase);

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return new ResolvedDestinationCollection(destinations, null);
        }

        var family = _options.AddressFamily switch
        {
            DnsAddressFamily.IPv4 => AddressFamily.InterNetwork,
            DnsAddressFamily.IPv6 => AddressFamily.InterNetworkV6,
            _ => (AddressFamily?)null,
        };
        var lookups = destinations.Select(d => ResolveAsync(d.Key, d.Value, family, cancellationToken)).ToList();
        var results = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var resolved in await Task.WhenAll(lookups))
        {
            foreach (var (name, config) in resolved)
            {
                results[name] = config;
            }
        }

        // Not disposed: YARP holds the token until it fires; the timer is released when it does.
        var refresh = new CancellationTokenSource(_options.RefreshPeriod, timeProvider);
        return new ResolvedDestinationCollection(results, new CancellationChangeToken(refresh.Token));
    }

    private async Task<List<KeyValuePair<string, DestinationConfig>>> ResolveAsync(
        string id, DestinationConfig config, AddressFamily? family, CancellationToken cancellationToken)
    {
        var uri = new Uri(config.Address);
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            // An address written as an IP has nothing to resolve.
            return [new(id, config)];
        }

        var host = uri.DnsSafeHost;
        IPAddress[] addresses;
        try
        {
            addresses = await dns.GetHostAddressesAsync(host, family, cancellationToken);
            _lastGood[host] = addresses;
            if (_failing.TryRemove(host, out _))
            {
                GatewayDnsLog.NameResolved(logger, host, addresses.Length);
            }
        }
        catch (SocketException e)
        {
            var notFound = e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData;
            if (notFound)
            {
                _lastGood.TryRemove(host, out _);
                addresses = [];
            }
            else
            {
                addresses = _lastGood.GetValueOrDefault(host) ?? [];
            }

            _failing[host] = true;
            metrics.DnsResolutionFailed(host, e.SocketErrorCode.ToString());
            if (throttle.ShouldLog("dns|" + host, out var suppressed))
            {
                GatewayDnsLog.NameUnresolved(logger, host, id, e.SocketErrorCode.ToString(), addresses.Length, _options.RefreshPeriod, suppressed);
            }
        }

        var originalHost = config.Host is { Length: > 0 } h ? h : uri.Authority;
        var addressBuilder = new UriBuilder(uri);
        var healthBuilder = config.Health is { Length: > 0 } health ? new UriBuilder(health) : null;
        var results = new List<KeyValuePair<string, DestinationConfig>>(addresses.Length);
        foreach (var address in addresses)
        {
            var text = address.ToString();
            addressBuilder.Host = text;
            var healthAddress = config.Health;
            if (healthBuilder is not null)
            {
                healthBuilder.Host = text;
                healthAddress = healthBuilder.Uri.ToString();
            }

            results.Add(new($"{id}[{text}]", config with { Host = originalHost, Address = addressBuilder.Uri.ToString(), Health = healthAddress }));
        }

        return results;
    }
}

internal static partial class GatewayDnsLog
{
    // Throttled per name by LogThrottle; the counter meshbulkheads.gateway.dns.resolution_failures has every failure.
    [LoggerMessage(30, LogLevel.Warning, "Destination name {Host} (destination {DestinationId}) did not resolve ({SocketError}); it has {Addresses} destinations for now and is resolved again every {RefreshPeriod}. {Suppressed} more failures of this name since the last such line were not logged", EventName = nameof(NameUnresolved))]
    public static partial void NameUnresolved(ILogger logger, string host, string destinationId, string socketError, int addresses, TimeSpan refreshPeriod, long suppressed);

    [LoggerMessage(31, LogLevel.Information, "Destination name {Host} resolves again: {Addresses} addresses", EventName = nameof(NameResolved))]
    public static partial void NameResolved(ILogger logger, string host, int addresses);
}
