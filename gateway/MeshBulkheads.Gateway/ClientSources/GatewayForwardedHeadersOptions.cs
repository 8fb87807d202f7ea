namespace MeshBulkheads.Gateway.ClientSources;

/// <summary>
/// Which peers the gateway believes about the client's address, section <c>Gateway:ForwardedHeaders</c>. A call from a
/// listed proxy or network has its <c>X-Forwarded-For</c> applied (ASP.NET Core's forwarded headers middleware), so the
/// client address — the unauthenticated limiter's source, the logs' peer — is the real client's; from any other peer the
/// header is ignored. Both lists are empty by default: nothing is trusted, and the middleware is not even installed
/// (ASP.NET Core's middleware with both lists empty would trust every peer). Read at start.
/// </summary>
public sealed class GatewayForwardedHeadersOptions
{
    public const string SectionName = "Gateway:ForwardedHeaders";

    /// <summary>Proxy addresses whose <c>X-Forwarded-For</c> is believed (<c>Gateway:ForwardedHeaders:KnownProxies:N</c>, e.g. <c>10.0.0.7</c>). Default none.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks whose <c>X-Forwarded-For</c> is believed, in CIDR (<c>Gateway:ForwardedHeaders:KnownNetworks:N</c>, e.g. <c>10.0.0.0/8</c>). Default none.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies' entries of <c>X-Forwarded-For</c> are applied, from the right. The default is 1; 1 to 10.</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>Whether any proxy or network is trusted (else the middleware is not installed).</summary>
    public bool TrustsAnyPeer => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}
