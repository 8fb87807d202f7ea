namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>Methods the interceptors never gate or time out: health checks and reflection.</summary>
/// <remarks>A probe must answer even when every permit is busy, and <c>Health/Watch</c> is a long-lived stream.</remarks>
public static class UngatedMethods
{
    /// <summary>True for the gRPC health and reflection services.</summary>
    /// <param name="method">The full method name.</param>
    /// <returns>Whether the method bypasses deadlines and bulkheads.</returns>
    public static bool IsUngated(string method) =>
        method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)
        || method.StartsWith("/grpc.reflection.v1alpha.ServerReflection/", StringComparison.Ordinal)
        || method.StartsWith("/grpc.reflection.v1.ServerReflection/", StringComparison.Ordinal);
}
