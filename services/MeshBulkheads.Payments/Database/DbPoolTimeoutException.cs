using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Payments.Database;

/// <summary>
/// No pooled connection became free within <see cref="DatabaseOptions.MaxPoolWait"/>: the database is the bottleneck.
/// <c>UNAVAILABLE</c> (<c>db-pool-timeout</c>) with that wait as pushback (bounded to 50 ms–30 s): no connection came
/// free in one whole wait, so retrying sooner would most likely wait in vain again.
/// </summary>
/// <param name="pool">The pool that was exhausted (<c>charge</c> or <c>read</c>).</param>
/// <param name="message">What happened, for the caller and the log.</param>
/// <param name="retryAfter">The pushback to send.</param>
public sealed class DbPoolTimeoutException(string pool, string message, TimeSpan retryAfter)
    : MeshRejectionException(new MeshRejection(StatusCode.Unavailable, MeshRejectReasons.DbPoolTimeout, message, retryAfter))
{
    /// <summary>The pool that was exhausted (<c>charge</c> or <c>read</c>).</summary>
    public string Pool { get; } = pool;
}
