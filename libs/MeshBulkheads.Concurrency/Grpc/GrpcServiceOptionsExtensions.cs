using Grpc.AspNetCore.Server;
using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>Adds the mesh interceptors in the right order.</summary>
public static class GrpcServiceOptionsExtensions
{
    /// <summary>Adds <see cref="DeadlineInterceptor"/> then <see cref="BulkheadInterceptor"/> (the deadline must be known before admission).</summary>
    /// <param name="options">The gRPC service options.</param>
    /// <returns>The same options.</returns>
    public static GrpcServiceOptions AddMeshInterceptors(this GrpcServiceOptions options)
    {
        options.Interceptors.Add<DeadlineInterceptor>();
        options.Interceptors.Add<BulkheadInterceptor>();
        return options;
    }
}
