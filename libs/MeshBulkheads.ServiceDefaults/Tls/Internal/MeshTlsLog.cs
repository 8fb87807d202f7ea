namespace MeshBulkheads.ServiceDefaults.Tls.Internal;

/// <summary>The TLS listener's log lines (certificate loads and reloads, the cleartext warning).</summary>
internal static partial class MeshTlsLog
{
    [LoggerMessage(1, LogLevel.Information, "TLS certificate {CertificateFile} loaded: {Subject}, thumbprint {Thumbprint}, valid until {NotAfter}", EventName = nameof(TlsCertificateLoaded))]
    public static partial void TlsCertificateLoaded(ILogger logger, string certificateFile, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(2, LogLevel.Information, "TLS certificate {CertificateFile} reloaded: {Subject}, thumbprint {Thumbprint}, valid until {NotAfter}; new connections present it", EventName = nameof(TlsCertificateReloaded))]
    public static partial void TlsCertificateReloaded(ILogger logger, string certificateFile, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(3, LogLevel.Error, "TLS certificate {CertificateFile} with key {KeyFile} changed but cannot be used ({Reason}); the last good certificate {KeptThumbprint} keeps serving", EventName = nameof(TlsCertificateRejected))]
    public static partial void TlsCertificateRejected(ILogger logger, string certificateFile, string keyFile, string reason, string keptThumbprint);

    [LoggerMessage(4, LogLevel.Warning, "TLS certificate {CertificateFile} could not be read ({Reason}); the last good certificate keeps serving", EventName = nameof(TlsCertificateUnreadable))]
    public static partial void TlsCertificateUnreadable(ILogger logger, string certificateFile, string reason);

    [LoggerMessage(5, LogLevel.Warning, "The gRPC listener {Endpoint} is cleartext (h2c) on a non-loopback address: the API keys (x-api-key) and identity tokens (x-mesh-identity) its calls carry can be read and replayed by anyone on the network path. Set Mesh:Tls:CertificateFile and Mesh:Tls:KeyFile (docs/security.md)", EventName = nameof(CleartextGrpcListener))]
    public static partial void CleartextGrpcListener(ILogger logger, string endpoint);
}
