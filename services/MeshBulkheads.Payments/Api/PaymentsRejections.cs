using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Partitions;

namespace MeshBulkheads.Payments.Api;

/// <summary>
/// Rejections that happen inside payments (after the bulkhead admitted the call). Their wire shape is the
/// library's (<see cref="BulkheadRejectionMapper.ToRpcException(StatusCode, string, string, TimeSpan?)"/>); only
/// the reason names and messages are payments'. Thrown before any response header, so each is a Trailers-Only
/// response whose pushback grpc-dotnet's retry policy honours.
/// </summary>
internal static class PaymentsRejections
{
    /// <summary>The account's mailbox was full.</summary>
    public const string PartitionFullReason = "partition-full";

    /// <summary>No database connection became free in time.</summary>
    public const string PoolTimeoutReason = "db-pool-timeout";

    /// <summary>The account's mailbox is full or payments is stopping: <c>UNAVAILABLE</c> with the mailbox's drain time as pushback.</summary>
    public static RpcException Partition(PartitionRejectedException rejection) =>
        BulkheadRejectionMapper.ToRpcException(
            StatusCode.Unavailable,
            rejection.Reason == PartitionRejectionReason.PartitionFull ? PartitionFullReason : MeshRejectReasons.ShuttingDown,
            rejection.Message,
            rejection.RetryAfter);

    /// <summary>The database pool stayed exhausted for a whole wait: <c>UNAVAILABLE</c> with that wait as pushback.</summary>
    public static RpcException PoolTimeout(DbPoolTimeoutException timeout) =>
        BulkheadRejectionMapper.ToRpcException(StatusCode.Unavailable, PoolTimeoutReason, timeout.Message, timeout.RetryAfter);

    /// <summary>The caller's token fired before its charge completed: say which of the two it was.</summary>
    public static RpcException GoneWhileQueued(ServerCallContext context, DateTimeOffset now)
    {
        var deadlinePassed = context.Deadline != DateTime.MaxValue && new DateTimeOffset(DateTime.SpecifyKind(context.Deadline, DateTimeKind.Utc)) <= now;
        return deadlinePassed
            ? BulkheadRejectionMapper.ToRpcException(
                StatusCode.DeadlineExceeded,
                MeshRejectReasons.DeadlineExceeded,
                "The deadline passed before the charge completed; a charge still waiting for its account's partition is never started.",
                retryAfter: null)
            : BulkheadRejectionMapper.ToRpcException(
                StatusCode.Cancelled,
                MeshRejectReasons.Canceled,
                "The caller cancelled before the charge completed; a charge still waiting for its account's partition is never started.",
                retryAfter: null);
    }
}
