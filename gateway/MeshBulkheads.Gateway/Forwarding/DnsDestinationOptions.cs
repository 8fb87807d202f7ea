using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Destinations from DNS, section <c>Gateway:Destinations:Dns</c>: every configured destination
/// address whose host is a name becomes one destination per address the name resolves to, refreshed
/// every <see cref="RefreshPeriod"/>. Point a cluster at a Kubernetes headless Service and each pod
/// becomes a destination (and a share of the route's bulkhead). Read at start.
/// </summary>
public sealed class DnsDestinationOptions
{
    public const string SectionName = "Gateway:Destinations:Dns";

    /// <summary>Whether destinations are resolved through DNS. The default is false (addresses are used as written).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How often names are resolved again. The default is 5 seconds (YARP's own default is 5 minutes,
    /// far too slow to follow pods scaling), range 1 second to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Which addresses to use: <c>Any</c> (the default), <c>IPv4</c> or <c>IPv6</c>.</summary>
    public DnsAddressFamily AddressFamily { get; set; } = DnsAddressFamily.Any;
}
