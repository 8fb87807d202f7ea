using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// The one place where a bulkhead rejection becomes a wire response: gRPC status, <c>x-mesh-reject-reason</c>,
/// and for overload <c>grpc-retry-pushback-ms</c> (gRFC A6) / HTTP <c>Retry-After</c>.
/// </summary>
/// <remarks>
/// Overload (queue full, queue timeout, adaptive limit, tenant share) → <c>UNAVAILABLE</c> / HTTP 503, the status
/// grpc-dotnet retries; deadline unmeetable or exceeded → <c>DEADLINE_EXCEEDED</c> / 504; cancelled →
/// <c>CANCELLED</c> / 499. The pushback is the time the queue needs to drain at its recent completion rate,
/// bounded to 50 ms–30 s. The table is in the library README.
/// </remarks>
public static class BulkheadRejectionMapper
{
    /// <summary>The kebab-case reason carried in <c>x-mesh-reject-reason</c>.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The wire value, e.g. <c>queue-full</c>.</returns>
    public static string ToReasonCode(BulkheadRejectionReason reason) => reason switch
    {
        BulkheadRejectionReason.QueueFull => "queue-full",
        BulkheadRejectionReason.QueueTimeout => "queue-timeout",
        BulkheadRejectionReason.DeadlineUnmeetable => "deadline-unmeetable",
        BulkheadRejectionReason.DeadlineExceeded => MeshRejectReasons.DeadlineExceeded,
        BulkheadRejectionReason.Canceled => MeshRejectReasons.Canceled,
        BulkheadRejectionReason.AdaptiveLimit => "adaptive-limit",
        BulkheadRejectionReason.TenantShare => "tenant-share",
        BulkheadRejectionReason.Disposed => MeshRejectReasons.ShuttingDown,
        _ => "none",
    };

    /// <summary>Whether the reason means the server is overloaded (retry elsewhere or later).</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>True for overload reasons.</returns>
    public static bool IsOverload(BulkheadRejectionReason reason) => reason is BulkheadRejectionReason.QueueFull
        or BulkheadRejectionReason.QueueTimeout or BulkheadRejectionReason.AdaptiveLimit
        or BulkheadRejectionReason.TenantShare or BulkheadRejectionReason.Disposed;

    /// <summary>The gRPC status for a reason.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The status code.</returns>
    public static StatusCode ToStatusCode(BulkheadRejectionReason reason) => reason switch
    {
        BulkheadRejectionReason.DeadlineUnmeetable or BulkheadRejectionReason.DeadlineExceeded => StatusCode.DeadlineExceeded,
        BulkheadRejectionReason.Canceled => StatusCode.Cancelled,
        BulkheadRejectionReason.None => StatusCode.OK,
        _ => StatusCode.Unavailable,
    };

    /// <summary>The HTTP status for plain HTTP callers.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>503, 504 or 499.</returns>
    public static int ToHttpStatusCode(BulkheadRejectionReason reason) => reason switch
    {
        BulkheadRejectionReason.DeadlineUnmeetable or BulkheadRejectionReason.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        BulkheadRejectionReason.Canceled => StatusCodes.Status499ClientClosedRequest,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>A message an operator or caller can act on.</summary>
    /// <param name="lease">The rejected lease.</param>
    /// <param name="bulkheadName">The bulkhead that rejected it.</param>
    /// <returns>The message.</returns>
    public static string ToMessage(BulkheadLease lease, string bulkheadName) => lease.Reason switch
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

    /// <summary>The metadata of a rejection: reason, and for overload the pushback and Retry-After.</summary>
    /// <param name="lease">The rejected lease.</param>
    /// <returns>Header name/value pairs.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> ToMetadata(BulkheadLease lease) => ToMetadata(lease, null);

    /// <summary>
    /// The metadata of a rejection with the <c>x-mesh-reject-reason</c> value replaced, for a caller that names
    /// reasons in its own vocabulary (the gateway answers <c>route-overloaded</c> for every overload reason).
    /// </summary>
    /// <param name="lease">The rejected lease.</param>
    /// <param name="rejectReasonOverride">The <c>x-mesh-reject-reason</c> value to send; null sends <see cref="ToReasonCode"/>.</param>
    /// <returns>Header name/value pairs: the reason, and for overload the pushback and Retry-After.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> ToMetadata(BulkheadLease lease, string? rejectReasonOverride)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ToMetadata(rejectReasonOverride ?? ToReasonCode(lease.Reason), IsOverload(lease.Reason) ? lease.RetryAfter : null);
    }

    /// <summary>
    /// The two pushback entries for a rejection that the caller may retry after <paramref name="retryAfter"/>:
    /// <c>grpc-retry-pushback-ms</c> (gRFC A6) and HTTP <c>retry-after</c>, both rounded up so a client never
    /// comes back a moment too early.
    /// </summary>
    /// <param name="retryAfter">How long the caller should wait; negative is read as zero.</param>
    /// <returns><c>grpc-retry-pushback-ms</c> = <see cref="ToPushbackMilliseconds"/>, <c>retry-after</c> = <see cref="ToRetryAfterSeconds"/>.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> PushbackMetadata(TimeSpan retryAfter) =>
    [
        new(MeshMetadata.RetryPushbackMs, ToPushbackMilliseconds(retryAfter).ToString(CultureInfo.InvariantCulture)),
        new(MeshMetadata.RetryAfter, ToRetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>
    /// Bounds a suggested retry delay to 50 ms–30 s (<see cref="BulkheadConstants.MinRetryAfter"/>–<see cref="BulkheadConstants.MaxRetryAfter"/>):
    /// a shorter pushback only invites a retry storm, a longer one outlives any deadline.
    /// </summary>
    /// <param name="retryAfter">The raw estimate, e.g. queue length × mean service time.</param>
    /// <returns>The bounded delay.</returns>
    public static TimeSpan BoundRetryAfter(TimeSpan retryAfter) =>
        retryAfter < BulkheadConstants.MinRetryAfter ? BulkheadConstants.MinRetryAfter
        : retryAfter > BulkheadConstants.MaxRetryAfter ? BulkheadConstants.MaxRetryAfter
        : retryAfter;

    /// <summary>The <c>grpc-retry-pushback-ms</c> value: whole milliseconds, rounded up, at least 1.</summary>
    /// <param name="retryAfter">How long the caller should wait.</param>
    /// <returns>Milliseconds, at least 1 (0 would tell a gRPC client to retry at once).</returns>
    public static long ToPushbackMilliseconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds));

    /// <summary>The HTTP <c>Retry-After</c> value: whole seconds (the header has no fractions), rounded up, at least 1.</summary>
    /// <param name="retryAfter">How long the caller should wait.</param>
    /// <returns>Seconds, at least 1.</returns>
    public static long ToRetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

    /// <summary>The exception an interceptor throws before any response header is written (a Trailers-Only response).</summary>
    /// <param name="lease">The rejected lease.</param>
    /// <param name="bulkheadName">The bulkhead that rejected it.</param>
    /// <returns>The exception with status, message and trailers.</returns>
    public static RpcException ToRpcException(BulkheadLease lease, string bulkheadName) =>
        ToRpcException(ToStatusCode(lease.Reason), ToMessage(lease, bulkheadName), ToMetadata(lease));

    /// <summary>The exception for a refusal reported by <see cref="Bulkhead.ExecuteAsync{T}(BulkheadRequest, Func{CancellationToken, ValueTask{T}}, CancellationToken)"/>.</summary>
    /// <param name="exception">The refusal.</param>
    /// <returns>The same status, message and trailers as for the rejected lease.</returns>
    public static RpcException ToRpcException(BulkheadRejectedException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var rejection = exception.Rejection;
        if (rejection.Reason == BulkheadRejectionReason.None)
        {
            throw new ArgumentException("The exception carries no bulkhead refusal.", nameof(exception));
        }

        return ToRpcException(new BulkheadLease(rejection.Reason, rejection.QueueTime, rejection.RetryAfter), rejection.BulkheadName);
    }

    /// <summary>
    /// The same wire shape for a rejection that is not a bulkhead's (a partition mailbox, a database pool, a
    /// downstream budget, a malformed header): the status, <c>x-mesh-reject-reason</c> and, when the caller may
    /// retry, <c>grpc-retry-pushback-ms</c> and <c>retry-after</c>.
    /// </summary>
    /// <param name="status">The gRPC status: <c>UNAVAILABLE</c> for overload (the one grpc-dotnet retries).</param>
    /// <param name="rejectReason">The kebab-case <c>x-mesh-reject-reason</c>, e.g. <c>db-pool-timeout</c>.</param>
    /// <param name="message">A message the caller can act on.</param>
    /// <param name="retryAfter">How long the caller should wait before it retries; null sends no pushback.</param>
    /// <returns>The exception; throw it before any response header is written so it goes out Trailers-Only.</returns>
    public static RpcException ToRpcException(StatusCode status, string rejectReason, string message, TimeSpan? retryAfter) =>
        ToRpcException(status, message, ToMetadata(rejectReason, retryAfter));

    /// <summary>The metadata of a rejection named by the caller: the reason, and the pushback when there is one.</summary>
    /// <param name="rejectReason">The kebab-case <c>x-mesh-reject-reason</c>.</param>
    /// <param name="retryAfter">How long the caller should wait; null sends no pushback.</param>
    /// <returns>Header name/value pairs.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> ToMetadata(string rejectReason, TimeSpan? retryAfter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rejectReason);
        return retryAfter is { } wait
            ? [new(MeshMetadata.RejectReason, rejectReason), .. PushbackMetadata(wait)]
            : [new(MeshMetadata.RejectReason, rejectReason)];
    }

    /// <summary>Writes the rejection from middleware: Trailers-Only for gRPC, the HTTP status with Retry-After otherwise.</summary>
    /// <param name="context">The request; its response must not have started.</param>
    /// <param name="lease">The rejected lease.</param>
    /// <param name="bulkheadName">The bulkhead that rejected it.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public static Task WriteAsync(HttpContext context, BulkheadLease lease, string bulkheadName) =>
        GrpcTrailersOnlyResponse.WriteAsync(
            context,
            ToStatusCode(lease.Reason),
            ToMessage(lease, bulkheadName),
            ToHttpStatusCode(lease.Reason),
            ToMetadata(lease));

    private static RpcException ToRpcException(StatusCode status, string message, IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        var trailers = new Metadata();
        foreach (var (key, value) in metadata)
        {
            trailers.Add(key, value);
        }

        return new RpcException(new Status(status, message), trailers);
    }

    private static string FormatMs(TimeSpan? value) =>
        ((long)Math.Ceiling((value ?? TimeSpan.Zero).TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
}
