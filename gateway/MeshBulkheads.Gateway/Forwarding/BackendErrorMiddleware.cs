using Grpc.Core;
using MeshBulkheads.ServiceDefaults.Telemetry;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Rewrites the proxy failures YARP answers with a bare HTTP 502/503/504 (gRPC clients would see
/// only "UNAVAILABLE, Bad gRPC response") into Trailers-Only gRPC statuses with a reason.
/// </summary>
/// <remarks>
/// Runs first in the YARP pipeline so it sees the <see cref="IForwarderErrorFeature"/> the forwarder
/// sets. When the client went away nothing is written; when the backend's response has already
/// started it cannot be rewritten and YARP resets the stream (the client sees the reset).
/// </remarks>
public sealed class BackendErrorMiddleware(RequestDelegate next, GatewayMetrics metrics, LogThrottle throttle, ILogger<BackendErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested || IsClientSide(error.Error))
        {
            return;
        }

        var proxy = context.Features.Get<IReverseProxyFeature>();
        var routeId = proxy?.Route.Config.RouteId ?? GatewayRoute.Unknown;
        var clusterId = proxy?.Cluster?.Config.ClusterId ?? GatewayRoute.Unknown;
        var (status, httpStatus, reason, message) = error.Error switch
        {
            ForwarderError.NoAvailableDestinations when proxy?.AllDestinations.Count == 0 => (
                StatusCode.Unavailable,
                StatusCodes.Status503ServiceUnavailable,
                MeshRejectReasons.NoHealthyBackend,
                $"no backend for route '{routeId}' (cluster '{clusterId}'): the cluster has no destinations yet (its DNS names do not resolve: no ready backend pod); retry later"),
            ForwarderError.NoAvailableDestinations => (
                StatusCode.Unavailable,
                StatusCodes.Status503ServiceUnavailable,
                MeshRejectReasons.NoHealthyBackend,
                $"no healthy backend for route '{routeId}' (cluster '{clusterId}'): every destination fails its health checks; retry later"),
            ForwarderError.RequestTimedOut => (
                StatusCode.DeadlineExceeded,
                StatusCodes.Status504GatewayTimeout,
                MeshRejectReasons.BackendTimeout,
                $"backend for route '{routeId}' (cluster '{clusterId}') did not answer within the gateway's activity timeout"),
            _ => (
                StatusCode.Unavailable,
                StatusCodes.Status502BadGateway,
                MeshRejectReasons.BackendUnavailable,
                $"backend for route '{routeId}' (cluster '{clusterId}') is unavailable ({Describe(error)}); retry later"),
        };

        if (throttle.ShouldLog($"{routeId}|{clusterId}|{error.Error}", out var suppressed))
        {
            GatewayLog.BackendFailure(logger, error.Exception, routeId, clusterId, error.Error.ToString(), status.ToString(), reason, suppressed);
        }

        await GatewayRejections.WriteAsync(context, metrics, routeId, new MeshRejection(status, reason, message) { HttpStatusOverride = httpStatus });
    }

    /// <summary>Errors caused by the client (it cancelled or sent a broken body): nothing to explain to it.</summary>
    private static bool IsClientSide(ForwarderError error) => error is
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient;

    /// <summary>A short cause without addresses or stack traces, e.g. <c>ConnectionError</c>.</summary>
    private static string Describe(IForwarderErrorFeature error)
    {
        for (var e = error.Exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http)
            {
                return http.HttpRequestError.ToString();
            }
        }

        return error.Error.ToString();
    }
}
