namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>What a bulkhead said when it refused a request: which bulkhead, why, and when to come back.</summary>
/// <param name="BulkheadName">The bulkhead that refused.</param>
/// <param name="Reason">Why; never <see cref="BulkheadRejectionReason.None"/>.</param>
/// <param name="QueueTime">How long the request waited before it was refused (zero when refused on arrival).</param>
/// <param name="RetryAfter">How long to wait before retrying (overload only), or null when a retry would not help.</param>
public readonly record struct BulkheadRejectedArguments(
    string BulkheadName,
    BulkheadRejectionReason Reason,
    TimeSpan QueueTime,
    TimeSpan? RetryAfter);
