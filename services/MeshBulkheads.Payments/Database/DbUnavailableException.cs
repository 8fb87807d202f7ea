using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Payments.Database;

/// <summary>
/// The database could not be reached, or the connection broke mid-call (a restart, a failover, a network cut):
/// overload-like and transient, answered <c>UNAVAILABLE</c> with <c>db-unavailable</c> and pushback. The broken
/// connection and every idle one of its pool were closed, so the next call opens fresh ones.
/// </summary>
/// <param name="pool">The pool whose connection failed (<c>charge</c> or <c>read</c>).</param>
/// <param name="message">What happened (the log line); the caller's message adds that a charge may have been recorded.</param>
/// <param name="retryAfter">The pushback to send.</param>
/// <param name="innerException">The driver's error.</param>
public sealed class DbUnavailableException(string pool, string message, TimeSpan retryAfter, Exception? innerException = null)
    : MeshRejectionException(
        new MeshRejection(StatusCode.Unavailable, MeshRejectReasons.DbUnavailable, message + " A charge may or may not have been recorded: retry it with the same idempotency_key.", retryAfter),
        message,
        innerException)
{
    /// <summary>The pool whose connection failed (<c>charge</c> or <c>read</c>).</summary>
    public string Pool { get; } = pool;
}
