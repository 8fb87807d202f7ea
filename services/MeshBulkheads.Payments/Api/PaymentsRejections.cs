using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Partitions;

namespace MeshBulkheads.Payments.Api;

/// <summary>
/// Rejections that happen inside payments (after the bulkhead admitted the call). Their wire shape is the
/// library's (<see cref="MeshRejection"/>); only
/// the reason names and messages are payments'. Thrown before any response header, so each is a Trailers-Only
/// response whose pushback grpc-dotnet's retry policy honours.
/// </summary>
internal static class PaymentsRejections
{
    /// <summary>The account's mailbox was full.</summary>
    public const string PartitionFullReason = MeshRejectReasons.PartitionFull;

    /// <summary>No database connection became free in time.</summary>
    public const string PoolTimeoutReason = MeshRejectReasons.DbPoolTimeout;

    /// <summary>The account's mailbox is full or payments is stopping: <c>UNAVAILABLE</c> with the mailbox's drain time as pushback.</summary>
    public static RpcException Partition(PartitionRejectedException rejection) => rejection.Rejection.ToRpcException();

    /// <summary>The database connection failed or could not be opened.</summary>
    public const string DbUnavailableReason = MeshRejectReasons.DbUnavailable;

    /// <summary>
    /// The database was unreachable or the connection broke: <c>UNAVAILABLE</c> with pushback. A charge that
    /// broke mid-transaction may or may not have committed, so the message says to retry with the same key.
    /// </summary>
    public static RpcException DbUnavailable(DbUnavailableException unavailable) => unavailable.Rejection.ToRpcException();

    /// <summary>The database pool stayed exhausted for a whole wait: <c>UNAVAILABLE</c> with that wait as pushback.</summary>
    public static RpcException PoolTimeout(DbPoolTimeoutException timeout) =>
        timeout.Rejection.ToRpcException();

    /// <summary>
    /// The caller's token fired while its charge still waited in its mailbox: the charge was never started and
    /// nothing was recorded. Says which of the two (deadline or cancel) it was.
    /// </summary>
    public static RpcException GoneWhileQueued(ServerCallContext context, DateTimeOffset now) =>
        DeadlinePassed(context, now)
            ? DeadlineGuard.Exceeded("The deadline passed while the charge waited for its account's partition: it was never started and nothing was recorded.").ToRpcException()
            : new MeshRejection(
                StatusCode.Cancelled,
                MeshRejectReasons.Canceled,
                "The caller cancelled while the charge waited for its account's partition: it was never started and nothing was recorded.").ToRpcException();

    /// <summary>
    /// The caller's token fired after its charge had started: it may have been recorded (it may even have
    /// committed). A retry with a new key could charge twice; a retry with the same key replays the original.
    /// </summary>
    public static RpcException GoneWhileRunning(ServerCallContext context, DateTimeOffset now, string idempotencyKey)
    {
        var what = DeadlinePassed(context, now) ? "The deadline passed" : "The caller cancelled";
        var message = $"{what} while the charge was running: it may have been recorded. Retry with the same idempotency_key {EchoedValue.Quote(idempotencyKey)} to learn its outcome (a recorded charge is replayed, never charged twice); never retry it with a new key.";
        return DeadlinePassed(context, now)
            ? DeadlineGuard.Exceeded(message).ToRpcException()
            : new MeshRejection(StatusCode.Cancelled, MeshRejectReasons.Canceled, message).ToRpcException();
    }

    // The deadline's timer (the deadline interceptor's CancelAfter) can fire a tick before the clock reaches the
    // deadline; "has passed" alone then called a deadline expiry a cancel (CANCELLED, and the interceptor replaced
    // that with its generic message, losing "may have been recorded"): DeadlineGuard.ExplainsCancellation decides.
    private static bool DeadlinePassed(ServerCallContext context, DateTimeOffset now) =>
        DeadlineGuard.ExplainsCancellation(DeadlineGuard.FromGrpc(context.Deadline), now);
}
