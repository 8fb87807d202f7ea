using Grpc.Core;

namespace MeshBulkheads.ServiceDefaults.Grpc;

/// <summary>The service-level statuses decided in the contract; each carries an actionable message.</summary>
public static class GrpcErrors
{
    /// <summary>Bad arguments: <c>INVALID_ARGUMENT</c>.</summary>
    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    /// <summary>Unknown entity: <c>NOT_FOUND</c>.</summary>
    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    /// <summary>State-dependent refusal: <c>FAILED_PRECONDITION</c>.</summary>
    public static RpcException FailedPrecondition(string message) => new(new Status(StatusCode.FailedPrecondition, message));

    /// <summary>Conflicting reuse of an idempotency key: <c>ALREADY_EXISTS</c>.</summary>
    public static RpcException AlreadyExists(string message) => new(new Status(StatusCode.AlreadyExists, message));
}
