namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// How the gateway checks the certificates of backends it reaches over <c>https://</c> destinations, section
/// <c>Gateway:Tls</c> (environment variable <c>Gateway__Tls__BackendCaFile</c>).
/// </summary>
/// <remarks>
/// With <see cref="BackendCaFile"/> a backend's chain must end at one of the file's certificates (custom root trust; the
/// machine's store is not consulted) and its name must match the destination's host (or its <c>Host</c>, which the DNS
/// destinations keep). Without it, <c>https://</c> destinations are checked against the machine's trust store. Never
/// "accept any". <c>http://</c> destinations stay h2c. The file is read at start and whenever YARP builds a cluster's
/// client (a configuration change); a rotated CA needs such a change or a restart.
/// </remarks>
public sealed class BackendTlsOptions
{
    public const string SectionName = "Gateway:Tls";

    /// <summary>The PEM CA certificate(s) that issued the backends' certificates (a Secret's <c>ca.crt</c>). Default none: the machine's trust store.</summary>
    public string? BackendCaFile { get; set; }
}
