using MeshBulkheads.Contracts.Tls;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.ServiceDefaults.Tls;
using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// YARP's client factory (which applies the cluster's <c>HttpClient</c> settings such as
/// <c>EnableMultipleHttp2Connections</c>) plus a connect timeout, HTTP/2 keepalive pings and, with
/// <c>Gateway:Tls:BackendCaFile</c>, the backends' certificates checked against that CA only.
/// </summary>
/// <remarks>
/// The same client serves the cluster's calls and its active health probes, so both trust the same CA. The CA file is
/// compared again every <c>Mesh:Tls:CheckInterval</c> when a new connection's handshake asks (<see cref="CaFileTrust"/>):
/// a rotated <c>ca.crt</c> applies to the next new connection without a restart; an unusable one is logged
/// (<c>BackendCaFileRejected</c>) and the last good CA stays trusted.
/// </remarks>
internal sealed class GatewayForwarderHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger,
    IOptions<BackendConnectionOptions> options,
    IOptions<BackendTlsOptions> tlsOptions,
    IOptions<MeshTlsOptions> meshTls,
    TimeProvider timeProvider,
    ILogger<GatewayForwarderHttpClientFactory> trustLogger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var backend = options.Value;
        handler.ConnectTimeout = backend.ConnectTimeout;
        handler.KeepAlivePingDelay = backend.KeepAlivePingDelay;
        handler.KeepAlivePingTimeout = backend.KeepAlivePingTimeout;
        // Ping only connections with calls in flight: an idle pool needs no pings.
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
        if (tlsOptions.Value.BackendCaFile is { Length: > 0 } caFile)
        {
            // Read per client (YARP builds one per cluster and again when its configuration changes), then watched.
            var trust = new CaFileTrust(caFile, timeProvider, meshTls.Value.CheckInterval, message => GatewayLog.BackendCaFileRejected(trustLogger, message));
            handler.SslOptions.RemoteCertificateValidationCallback = trust.ValidationCallback;
        }
    }
}
