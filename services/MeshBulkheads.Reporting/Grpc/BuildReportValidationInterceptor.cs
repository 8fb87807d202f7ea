using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Contracts.Reporting.V1;

namespace MeshBulkheads.Reporting.Grpc;

/// <summary>
/// Validates a BuildReport request before the deadline and bulkhead interceptors run: a request that can never succeed
/// (too many ids, a malformed or duplicate id, an unknown criticality) gets <c>INVALID_ARGUMENT</c> without
/// waiting for or holding a <c>reporting</c> permit, and without the deadline policy being applied.
/// </summary>
/// <remarks>
/// Added by <c>AddReporting()</c> (through <c>AddMeshService</c>) in the request-check slot of the one declared interceptor order
/// (<c>MeshInterceptors.AddMeshInterceptors</c>: metrics → request checks → deadline → bulkhead). The request
/// has been deserialized by then: its size in bytes is bounded by the service's <c>MaxReceiveMessageSize</c>.
/// </remarks>
public sealed class BuildReportValidationInterceptor(IOptions<ReportingOptions> options) : Interceptor
{
    /// <inheritdoc/>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (request is BuildReportRequest report)
        {
            BuildReportValidation.Validate(report, options.Value.MaxAccounts);
            // The library's reading: INVALID_ARGUMENT (invalid-criticality) for an unknown value, before any permit.
            _ = BulkheadInterceptor.ReadCriticality(context.RequestHeaders);
        }

        return continuation(request, context);
    }
}
