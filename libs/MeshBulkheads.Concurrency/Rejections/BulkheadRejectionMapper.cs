using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// Turns a bulkhead's refusal into a <see cref="MeshRejection"/> (status, <c>x-mesh-reject-reason</c>, message and,
/// for overload, the pushback); the rejection is then thrown or written like any other.
/// </summary>
/// <remarks>
/// Overload (queue full, queue timeout, adaptive limit, tenant share, shutting down) → <c>UNAVAILABLE</c> / HTTP 503,
/// the status grpc-dotnet retries; deadline unmeetable or exceeded → <c>DEADLINE_EXCEEDED</c> / 504; cancelled →
/// <c>CANCELLED</c> / 499. The pushback is the time the queue needs to drain at its recent completion rate,
/// bounded to 50 ms–30 s (<see cref="BoundRetryAfter"/>). The table is in the library README.
/// </remarks>
public static class BulkheadRejectionMapper
{
    /// <summary>The kebab-case reason carried in <c>x-mesh-reject-reason</c>.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The wire value from <see cref="MeshRejectReasons"/>, e.g. <c>queue-full</c>.</returns>
    public static string ToReasonCode(BulkheadRejectionReason reason) => reason switch
    {
        BulkheadRejectionReason.QueueFull => MeshRejectReasons.QueueFull,
        BulkheadRejectionReason.QueueTimeout => MeshRejectReasons.QueueTimeout,
        BulkheadRejectionReason.DeadlineUnmeetable => MeshRejectReasons.DeadlineUnmeetable,
        BulkheadRejectionReason.DeadlineExceeded => MeshRejectReasons.DeadlineExceeded,
        BulkheadRejectionReason.Canceled => MeshRejectReasons.Canceled,
        BulkheadRejectionReason.AdaptiveLimit => MeshRejectReasons.AdaptiveLimit,
        BulkheadRejectionReason.TenantShare => MeshRejectReasons.TenantShare,
        BulkheadRejectionReason.Disposed => MeshRejectReasons.ShuttingDown,
        _ => "none",
    };

    /// <summary>Whether the reason means the server is overloaded (retry elsewhere or later).</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>True for overload reasons.</returns>
    public static bool IsOverload(BulkheadRejectionReason reason) => reason is BulkheadRejectionReason.QueueFull
        or BulkheadRejectionReason.QueueTimeout or BulkheadRejectionReason.AdaptiveLimit
        or BulkheadRejectionReason.TenantShare or BulkheadRejectionReason.Disposed;

    /// <summary>The wire form of a rejected lease.</summary>
    /// <param name="lease">The rejected lease.</param>
    /// <param name="bulkheadName">The bulkhead that rejected it (named in the message).</param>
    /// <returns>Status, reason, message, and for overload the pushback.</returns>
    public static MeshRejection ToRejection(BulkheadLease lease, string bulkheadName)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var status = lease.Reason switch
        {
            BulkheadRejectionReason.DeadlineUnmeetable or BulkheadRejectionReason.DeadlineExceeded => StatusCode.DeadlineExceeded,
            BulkheadRejectionReason.Canceled => StatusCode.Cancelled,
            BulkheadRejectionReason.None => StatusCode.OK,
            _ => StatusCode.Unavailable,
        };
        return new MeshRejection(status, ToReasonCode(lease.Reason), ToMessage(lease, bulkheadName), IsOverload(lease.Reason) ? lease.RetryAfter : null);
    }

    /// <summary>The wire form of a refusal reported by <see cref="Bulkhead.ExecuteAsync{T}(BulkheadRequest, Func{CancellationToken, ValueTask{T}}, CancellationToken)"/>.</summary>
    /// <param name="exception">The refusal.</param>
    /// <returns>The same status, reason, message and pushback as for the rejected lease.</returns>
    public static MeshRejection ToRejection(BulkheadRejectedException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var rejection = exception.Rejection;
        if (rejection.Reason == BulkheadRejectionReason.None)
        {
            throw new ArgumentException("The exception carries no bulkhead refusal.", nameof(exception));
        }

        return ToRejection(new BulkheadLease(rejection.Reason, rejection.QueueTime, rejection.RetryAfter), rejection.BulkheadName);
    }

    /// <summary>Bounds a suggested retry delay to 50 ms–30 s; see <see cref="BulkheadRetryAfter.Bound"/>.</summary>
    /// <param name="retryAfter">The raw estimate, e.g. queue length × mean service time.</param>
    /// <returns>The bounded delay.</returns>
    public static TimeSpan BoundRetryAfter(TimeSpan retryAfter) => BulkheadRetryAfter.Bound(retryAfter);

    private static string ToMessage(BulkheadLease lease, string bulkheadName) => lease.Reason switch
    {
        BulkheadRejectionReason.QueueFull => $"Bulkhead '{bulkheadName}' is full (all permits busy, queue full); retry after {FormatMs(lease.RetryAfter)} ms.",
        BulkheadRejectionReason.QueueTimeout => $"Bulkhead '{bulkheadName}' shed the request after {FormatMs(lease.QueueTime)} ms in the queue; retry after {FormatMs(lease.RetryAfter)} ms.",
        BulkheadRejectionReason.AdaptiveLimit => $"Bulkhead '{bulkheadName}' lowered its limit because latency rose; retry after {FormatMs(lease.RetryAfter)} ms.",
        BulkheadRejectionReason.TenantShare => $"Bulkhead '{bulkheadName}': this tenant already holds its maximum share; retry after {FormatMs(lease.RetryAfter)} ms.",
        BulkheadRejectionReason.DeadlineUnmeetable => $"Bulkhead '{bulkheadName}': the remaining deadline is shorter than the expected queue wait; not started.",
        BulkheadRejectionReason.DeadlineExceeded => $"Bulkhead '{bulkheadName}': the deadline passed before a permit was granted; not started.",
        BulkheadRejectionReason.Canceled => $"Bulkhead '{bulkheadName}': the caller cancelled while waiting.",
        BulkheadRejectionReason.Disposed => $"Bulkhead '{bulkheadName}' is shutting down; retry on another instance.",
        _ => $"Bulkhead '{bulkheadName}' granted the request.",
    };

    private static string FormatMs(TimeSpan? value) =>
        ((long)Math.Ceiling((value ?? TimeSpan.Zero).TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
}
