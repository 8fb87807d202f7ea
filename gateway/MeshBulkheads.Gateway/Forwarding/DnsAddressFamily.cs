namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>The address family DNS destinations are resolved to.</summary>
public enum DnsAddressFamily
{
    /// <summary>Every address the name has (A and AAAA).</summary>
    Any = 0,

    /// <summary>IPv4 addresses only (A records).</summary>
    IPv4,

    /// <summary>IPv6 addresses only (AAAA records).</summary>
    IPv6,
}
