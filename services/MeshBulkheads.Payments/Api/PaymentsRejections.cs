using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Payments.Partitions;

namespace MeshBulkheads.Payments.Api;

/// <summary>
/// Rejections that happen inside payments (after the bulkhead admitted the call), in the same wire shape
/// as <see cref="BulkheadRejectionMapper"/>: overload → <c>UNAVAILABLE</c> with <c>x-mesh-reject-reason</c>,
/// <c>grpc-retry-pushback-ms</c> and <c>retry-after</c>; gone while queued → <c>DEADLINE_EXCEEDED</c> or
/// <c>CANCELLED</c> with the library's reason codes. Thrown before any response header, so each is a
/// Trailers-Only response whose pushback grpc-dotnet's retry policy honours.
/// </summary>
internal static class PaymentsRejections
{
    /// <summary>The account's mailbox was full.</summary>
    public const string PartitionFullReason = "partition-full";

    /// <summary>The process is stopping (the library's code for the same case).</summary>
    public const string ShuttingDownReason = "shutting-down";

    /// <summary>No database connection became free in time.</summary>
    public const string PoolTimeoutReason = "db-pool-timeout";

    /// <summary>The deadline passed while the charge waited in its mailbox (the library's code).</summary>
    public const string DeadlineExceededReason = "deadline-exceeded";

    /// <summary>The caller cancelled while the charge waited in its mailbox (the library's code).</summary>
    public const string CanceledReason = "canceled";

    public static RpcException Partition(PartitionRejectedException rejection) =>
        Overload(
            rejection.Reason == PartitionRejectionReason.PartitionFull ? PartitionFullReason : ShuttingDownReason,
            rejection.Message,
            rejection.RetryAfter);

    public static RpcException Overload(string reason, string message, TimeSpan? retryAfter)
    {
        var trailers = new Metadata { { MeshMetadata.RejectReason, reason } };
        if (retryAfter is { } pushback)
        {
            trailers.Add(MeshMetadata.RetryPushbackMs, ((long)Math.Ceiling(pushback.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture));
            trailers.Add(MeshMetadata.RetryAfter, Math.Max(1, (int)Math.Ceiling(pushback.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }

        return new RpcException(new Status(StatusCode.Unavailable, message), trailers);
    }

    /// <summary>The caller's token fired before its charge completed: say which of the two it was.</summary>
    public static RpcException GoneWhileQueued(ServerCallContext context, DateTimeOffset now)
    {
        var deadlinePassed = context.Deadline != DateTime.MaxValue && new DateTimeOffset(DateTime.SpecifyKind(context.Deadline, DateTimeKind.Utc)) <= now;
        return deadlinePassed
            ? new RpcException(
                new Status(StatusCode.DeadlineExceeded, "The deadline passed before the charge completed; a charge still waiting for its account's partition is never started."),
                new Metadata { { MeshMetadata.RejectReason, DeadlineExceededReason } })
            : new RpcException(
                new Status(StatusCode.Cancelled, "The caller cancelled before the charge completed; a charge still waiting for its account's partition is never started."),
                new Metadata { { MeshMetadata.RejectReason, CanceledReason } });
    }
}
