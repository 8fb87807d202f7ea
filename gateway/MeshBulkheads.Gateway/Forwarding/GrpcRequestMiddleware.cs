using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Forwards only what a backend takes as a gRPC call (issue 15, K3): on a proxy route, a method other than POST is
/// HTTP 404 and a content type other than <c>application/grpc</c> (with any <c>+format</c> or parameters, grpc-dotnet's
/// rule) HTTP 415, both <c>not-grpc</c> — what the services answer such a request (404: grpc-dotnet's unknown-method
/// catch-all takes any HTTP method in routing and refuses all but POST in its constraint, so routing finds no endpoint;
/// 415: grpc-dotnet).
/// </summary>
/// <remarks>
/// The gateway used to forward them, and a backend that refuses before it reads the body made YARP's body copy fail
/// first now and then: the caller got 502 / <c>backend-unavailable</c> (<c>RequestBodyDestination</c>) instead of the
/// backend's answer. After authentication and the tenant's rate limit (a plain HTTP caller gets those as 401 / 429 with
/// <c>Retry-After</c> first), before the message-size check reads a gRPC frame header, a route permit or the forwarder.
/// </remarks>
public sealed class GrpcRequestMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            return GatewayRejections.WriteAsync(context, metrics, GatewayCall.Of(context).RouteId, new MeshRejection(
                StatusCode.Unimplemented,
                MeshRejectReasons.NotGrpc,
                $"HTTP method {EchoedValue.Quote(request.Method)} on a gRPC method: a gRPC call is a POST")
            {
                PlainHttp = true,
            });
        }

        if (!IsGrpcContentType(request.ContentType))
        {
            return GatewayRejections.WriteAsync(context, metrics, GatewayCall.Of(context).RouteId, new MeshRejection(
                StatusCode.Internal,
                MeshRejectReasons.NotGrpc,
                request.ContentType is null
                    ? "Content-Type is missing from the request: a gRPC call is application/grpc"
                    : $"Content-Type {EchoedValue.Quote(request.ContentType)} is not supported: a gRPC call is application/grpc")
            {
                HttpStatusOverride = StatusCodes.Status415UnsupportedMediaType,
                PlainHttp = true,
            });
        }

        return next(context);
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
