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
/// A known method on a proxy route is then forwarded only if a backend would take it as a gRPC call (issue 15):
/// a method other than POST is HTTP 404 and a content type other than <c>application/grpc</c> (with any <c>+format</c> or
/// parameters) HTTP 415, both <c>not-grpc</c>, as the services answer them (ASP.NET Core routing, grpc-dotnet) — answered here, because a backend that refuses before it reads the body made YARP's body copy
/// fail first now and then (502, K3); a header block larger than the gateway forwards
/// (<see cref="MeshRequestLimits.GatewayForwardedHeadersTotalSize"/>) is <c>RESOURCE_EXHAUSTED</c>
/// <c>request-headers-too-large</c> (HTTP 431), because with what the gateway adds it would be over the backend's limit
/// (UNAVAILABLE from the forwarder, K2). Both before authentication, a rate limit or a permit: nothing of the caller's is
/// needed to refuse them, and nothing is forwarded, so no destination's health sees them.
/// </remarks>
public sealed class MethodResolutionMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        if (GatewayMethods.Resolve(context.Request.Path) is { } method)
        {
            GatewayCall.Of(context).Method = method;
            return route is null || NotForwardable(context) is not { } refusal
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

    /// <summary>Why a call to a known method on a proxy route must not be forwarded, or null.</summary>
    private static MeshRejection? NotForwardable(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            // 404, not 405: what the services answer (grpc-dotnet's catch-all for unknown methods accepts any HTTP
            // method in routing and refuses all but POST in its constraint, so routing finds no endpoint), and what
            // the gRPC spec maps to UNIMPLEMENTED.
            return new MeshRejection(
                StatusCode.Unimplemented,
                MeshRejectReasons.NotGrpc,
                $"HTTP method {EchoedValue.Quote(request.Method)} on a gRPC method: a gRPC call is a POST")
            {
                PlainHttp = true,
            };
        }

        if (!IsGrpcContentType(request.ContentType))
        {
            return new MeshRejection(
                StatusCode.Internal,
                MeshRejectReasons.NotGrpc,
                request.ContentType is null
                    ? "Content-Type is missing from the request: a gRPC call is application/grpc"
                    : $"Content-Type {EchoedValue.Quote(request.ContentType)} is not supported: a gRPC call is application/grpc")
            {
                HttpStatusOverride = StatusCodes.Status415UnsupportedMediaType,
                PlainHttp = true,
            };
        }

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

    /// <summary>grpc-dotnet's rule: <c>application/grpc</c> exactly, or followed by <c>+</c> (a message format) or <c>;</c> (parameters).</summary>
    private static bool IsGrpcContentType(string? contentType)
    {
        const string Grpc = "application/grpc";
        return contentType is not null
            && contentType.StartsWith(Grpc, StringComparison.OrdinalIgnoreCase)
            && (contentType.Length == Grpc.Length || contentType[Grpc.Length] is '+' or ';');
    }
}
