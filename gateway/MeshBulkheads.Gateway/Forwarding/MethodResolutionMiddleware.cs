using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.ServiceDefaults.Hosting;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// First work on every call (after endpoint routing, before the proxy pipeline or a gateway-served
/// gRPC service): resolves the path against <see cref="GatewayMethods"/> and sets the
/// <see cref="GatewayCall.Method"/>. A gRPC call, or any call that matched a proxy route, whose
/// path is not exactly a known method (a case variant such as <c>/…PaymentsService/GETBALANCE</c>,
/// or an unknown method) gets Trailers-Only <c>UNIMPLEMENTED</c> with reason <c>unknown-method</c>
/// and reaches no backend, bulkhead or rate limiter. ASP.NET Core routing (and so a YARP route
/// match) is case-insensitive; this check is what makes the gateway case-sensitive.
/// </summary>
/// <remarks>
/// A known method on a proxy route whose header block is larger than the gateway forwards
/// (<see cref="MeshRequestLimits.GatewayForwardedHeadersTotalSize"/> or <see cref="MeshRequestLimits.GatewayForwardedHeaderCount"/>)
/// is <c>RESOURCE_EXHAUSTED</c> <c>request-headers-too-large</c> (HTTP 431) here (issue 15, K2): with what the gateway
/// adds it would be over the backend's limit, and the forwarder answered <c>UNAVAILABLE</c> <c>backend-unavailable</c>.
/// Before authentication, a rate limit or a permit: nothing of the caller's is needed to refuse it, and nothing is
/// forwarded, so no destination's passive health sees it.
/// </remarks>
public sealed class MethodResolutionMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        if (GatewayMethods.Resolve(context.Request.Path) is { } method)
        {
            GatewayCall.Of(context).Method = method;
            return route is null || HeadersTooLarge(context.Request) is not { } refusal
                ? next(context)
                : GatewayRejections.WriteAsync(context, metrics, route.Config.RouteId ?? GatewayRoute.Unknown, refusal);
        }

        if (route is null && !GrpcTrailersOnlyResponse.IsGrpcRequest(context.Request))
        {
            // Not gRPC and not proxied (admin and other HTTP endpoints): not this middleware's business.
            return next(context);
        }

        var routeId = route?.Config.RouteId ?? GatewayRoute.Unknown;
        return GatewayRejections.WriteAsync(context, metrics, routeId, new MeshRejection(
            StatusCode.Unimplemented,
            MeshRejectReasons.UnknownMethod,
            $"unknown method {EchoedValue.Quote(context.Request.Path.Value ?? string.Empty)}: gRPC method paths are case-sensitive and must be exactly '/<package>.<Service>/<Method>' as in the contracts (grpcurl list/describe shows them)"));
    }

    /// <summary>The refusal of a header block the gateway cannot forward, or null.</summary>
    private static MeshRejection? HeadersTooLarge(HttpRequest request)
    {
        var size = MeshRequestLimits.HeaderListSize(request, out var fields);
        if (size > MeshRequestLimits.GatewayForwardedHeadersTotalSize || fields > MeshRequestLimits.GatewayForwardedHeaderCount)
        {
            return new MeshRejection(
                StatusCode.ResourceExhausted,
                MeshRejectReasons.RequestHeadersTooLarge,
                $"request headers too large: {size} bytes in {fields} fields (counted as HTTP/2 does, 32 bytes per field), the gateway forwards at most {MeshRequestLimits.GatewayForwardedHeadersTotalSize} bytes in {MeshRequestLimits.GatewayForwardedHeaderCount} fields; send less metadata")
            {
                HttpStatusOverride = StatusCodes.Status431RequestHeaderFieldsTooLarge,
                DoNotRetry = true,
            };
        }

        return null;
    }
}
