using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
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
public sealed class MethodResolutionMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (GatewayMethods.Resolve(context.Request.Path) is { } method)
        {
            GatewayCall.Of(context).Method = method;
            return next(context);
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
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
}
