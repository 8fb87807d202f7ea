using Grpc.AspNetCore.Server;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.ServiceDefaults.Identity;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Grpc;

/// <summary>
/// The one declaration of the mesh's server interceptor order, for every process:
/// metrics → identity → the service's request checks → deadline → bulkhead → faults → handler.
/// </summary>
/// <remarks>
/// Metrics is outermost so it measures every outcome, the rejections of the others included. Identity comes next: a
/// call without a valid gateway-signed token is refused before it learns anything about its request or takes a permit
/// (<see cref="MeshIdentityInterceptor"/>; the host registers its keys with <c>AddMeshIdentity</c>). A service's own
/// request checks (e.g. reporting's BuildReport validation) come next: an invalid request is refused before it
/// gets a deadline or takes a permit. The deadline must be known before admission, which is deadline-aware.
/// </remarks>
public static class MeshInterceptors
{
    /// <summary>Adds the mesh interceptors in their order; call it once, inside <c>AddGrpc(o => …)</c>.</summary>
    /// <param name="options">The gRPC service options.</param>
    /// <param name="requestChecks">Adds the service's request-check interceptors, or null.</param>
    /// <returns>The same options.</returns>
    public static GrpcServiceOptions AddMeshInterceptors(this GrpcServiceOptions options, Action<InterceptorCollection>? requestChecks = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        AddMeshMetricsInterceptor(options);
        options.Interceptors.Add<MeshIdentityInterceptor>();
        requestChecks?.Invoke(options.Interceptors);
        options.Interceptors.Add<DeadlineInterceptor>();
        options.Interceptors.Add<BulkheadInterceptor>();
        // Innermost: an injected latency or CPU burn holds the permit, as a slow handler would (docs/faults.md).
        options.Interceptors.Add<FaultInterceptor>();
        return options;
    }

    /// <summary>
    /// Adds only the outermost interceptor (rpc metrics labelled with the status code), for a process whose own
    /// gRPC services are not admitted through bulkheads (the gateway's reflection service).
    /// </summary>
    /// <param name="options">The gRPC service options.</param>
    /// <returns>The same options.</returns>
    public static GrpcServiceOptions AddMeshMetricsInterceptor(this GrpcServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Interceptors.Add<GrpcServerMetricsInterceptor>();
        return options;
    }
}
