namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// <c>x-mesh-reject-reason</c> values that are not a bulkhead's (those come from
/// <see cref="BulkheadRejectionMapper.ToReasonCode"/>) but that the services and the gateway must spell alike.
/// </summary>
public static class MeshRejectReasons
{
    /// <summary>The call's deadline was zero, negative, or passed before the work could start: <c>DEADLINE_EXCEEDED</c>.</summary>
    public const string DeadlineExceeded = "deadline-exceeded";

    /// <summary><c>grpc-timeout</c> is not 1–8 digits and one unit, or was sent twice: <c>INVALID_ARGUMENT</c>.</summary>
    public const string MalformedGrpcTimeout = "malformed-grpc-timeout";

    /// <summary>The caller cancelled before the work could start: <c>CANCELLED</c>.</summary>
    public const string Canceled = "canceled";

    /// <summary>The process is stopping: <c>UNAVAILABLE</c>, retry on another instance.</summary>
    public const string ShuttingDown = "shutting-down";
}
