using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>The full name of the method a gRPC call was routed to, as the service defines it.</summary>
/// <remarks>
/// grpc-dotnet's <c>ServerCallContext.Method</c> is the request path, and ASP.NET Core routing matches paths
/// case-insensitively: <c>/MESHBULKHEADS.payments.v1.PaymentsService/GETBALANCE</c> reaches <c>GetBalance</c> with
/// <c>Method</c> spelled as the caller sent it. Every per-method policy (bulkhead route, deadline, criticality,
/// metric labels) must key on the resolved method instead: the endpoint's <see cref="GrpcMethodMetadata"/>.
/// </remarks>
public static class GrpcMethodNames
{
    /// <summary>The resolved method's full name (<c>/package.Service/Method</c>) from the endpoint's <see cref="GrpcMethodMetadata"/>.</summary>
    /// <param name="context">The call.</param>
    /// <returns>The method's full name as defined, or null when the call has no gRPC method endpoint (an unimplemented method).</returns>
    public static string? Resolve(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Resolve(context.GetHttpContext());
    }

    /// <summary>The resolved method's full name for an HTTP request routed to a gRPC method endpoint.</summary>
    /// <param name="httpContext">The request.</param>
    /// <returns>The method's full name as defined, or null when the request was not routed to a gRPC method.</returns>
    public static string? Resolve(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return httpContext.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName;
    }
}
