using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// YARP's client factory (which applies the cluster's <c>HttpClient</c> settings such as
/// <c>EnableMultipleHttp2Connections</c>) plus a connect timeout and HTTP/2 keepalive pings.
/// </summary>
internal sealed class GatewayForwarderHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger,
    IOptions<BackendConnectionOptions> options) : ForwarderHttpClientFactory(logger)
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
    }
}
