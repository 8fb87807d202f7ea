using Grpc.AspNetCore.Server;
using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.ServiceDefaults.Grpc;
using Microsoft.AspNetCore.Http.Features;

namespace MeshBulkheads.ServiceDefaults.Hosting.Internal;

/// <summary>
/// Runs after routing, before any endpoint (and so before any gRPC interceptor): the admin listener
/// serves only admin endpoints, the gRPC listener no admin endpoint but <c>/readyz</c>, and a gRPC
/// endpoint answers only its exact method path.
/// </summary>
internal static class ListenerGate
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        var admin = endpoint?.Metadata.GetMetadata<AdminEndpointMetadata>();
        var onAdminListener = AdminConnection.IsAdmin(context);
        if (onAdminListener ? admin is null : admin is { ServedOnGrpcListener: false })
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        // An admin write: its token before anything reads the body.
        if (onAdminListener && endpoint?.Metadata.GetMetadata<AdminWriteMetadata>() is not null && AdminWriteMetadata.Refuse(context) is { } refused)
        {
            return refused;
        }

        // Routing matches literal segments case-insensitively, so /PKG.SERVICE/METHOD reaches the
        // endpoint of /pkg.Service/Method. gRPC method names are case-sensitive (grpc-go and
        // grpc-java answer UNIMPLEMENTED): anything but the exact path is refused here, before a
        // bulkhead, deadline or metric sees a caller-chosen spelling.
        if (endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc && !IsExactPath(context, grpc.Method.FullName))
        {
            var path = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value;
            return GrpcTrailersOnlyResponse.WriteAsync(
                context,
                StatusCode.Unimplemented,
                $"Method {EchoedValue.Quote(path)} is not implemented. gRPC method names are case-sensitive: did you mean '{grpc.Method.FullName}'?",
                StatusCodes.Status404NotFound);
        }

        if (endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } method && GrpcTrailersOnlyResponse.IsGrpcRequest(context.Request))
        {
            // A malformed grpc-timeout is refused here with the mesh's INVALID_ARGUMENT: grpc-dotnet parses the header before
            // any interceptor, and a value that overflows a TimeSpan (999999999H) made it answer UNKNOWN (found by the fuzzer).
            if (DeadlineResolver.MalformedOrNull(context.Request.Headers[MeshMetadata.GrpcTimeout]) is { } malformed)
            {
                return malformed.WriteAsync(context);
            }

            // A frame header grpc-dotnet cannot decode (compressed flag 2, a length over int.MaxValue) is INTERNAL /
            // RESOURCE_EXHAUSTED from the body read, not UNKNOWN from its handler error path (issue 15, K1).
            MeshRequestDecoding.CheckFrameHeaders(context, method.Method.Type);
        }

        return next(context);
    }

    /// <summary>The request target as sent (HTTP/2 <c>:path</c>, not decoded), compared ordinally.</summary>
    private static bool IsExactPath(HttpContext context, string fullName)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return string.Equals(string.IsNullOrEmpty(raw) ? context.Request.Path.Value : raw, fullName, StringComparison.Ordinal);
    }
}
