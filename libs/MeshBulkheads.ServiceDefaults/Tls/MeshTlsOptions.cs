namespace MeshBulkheads.ServiceDefaults.Tls;

/// <summary>
/// TLS on a host's gRPC port (section <c>Mesh:Tls</c>; environment variables <c>Mesh__Tls__CertificateFile</c>,
/// <c>Mesh__Tls__KeyFile</c>): HTTP/2 over TLS negotiated by ALPN, the certificate and key read from PEM files as a
/// Kubernetes TLS Secret mounts them (<c>tls.crt</c>, <c>tls.key</c>) and reloaded when they change. The same options
/// for every host (gateway and services); the admin port stays HTTP/1.1 cleartext (probes, Prometheus).
/// </summary>
/// <remarks>
/// Off by default (both files unset): the gRPC port is h2c, and a start on a non-loopback address logs
/// <c>CleartextGrpcListener</c>. Set both files or neither.
/// </remarks>
public sealed class MeshTlsOptions
{
    public const string SectionName = "Mesh:Tls";

    /// <summary>The PEM certificate: the leaf first, then any intermediates (a Secret's <c>tls.crt</c>). Default none (no TLS).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of the leaf, PKCS#8, PKCS#1 or SEC1 (a Secret's <c>tls.key</c>). Default none (no TLS).</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// How often both files are read again (following symlinks, so a Secret's <c>..data</c> swap counts); changed bytes
    /// are loaded for the next new connection, an invalid pair is logged and the last good certificate kept.
    /// The default is 10 seconds; 1 second to 1 hour.
    /// </summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>True when a certificate file is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificateFile);
}
