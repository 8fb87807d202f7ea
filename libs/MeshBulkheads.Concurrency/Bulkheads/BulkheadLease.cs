using System.Diagnostics;
using System.Threading.RateLimiting;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// The result of asking a <see cref="Bulkhead"/> for a permit. Disposing an acquired lease releases its permit.
/// </summary>
/// <remarks>
/// Acquired leases are pooled per bulkhead so the uncontended path allocates nothing: dispose a lease exactly
/// once and do not touch it afterwards (the same rule as a <see cref="ValueTask"/>). Rejected leases that carry
/// no data are shared static instances. <see cref="RateLimitLease.TryGetMetadata(string, out object?)"/> exposes
/// <see cref="MetadataName.RetryAfter"/> and <see cref="MetadataName.ReasonPhrase"/> (the kebab-case reason).
/// </remarks>
public sealed class BulkheadLease : RateLimitLease
{
    private static readonly string[] s_noMetadata = [];
    private static readonly string[] s_reasonOnly = [MetadataName.ReasonPhrase.Name];
    private static readonly string[] s_reasonAndRetryAfter = [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name];

    private Bulkhead? _owner;
    private int _released;

    internal BulkheadLease(Bulkhead owner)
    {
        _owner = owner;
    }

    internal BulkheadLease(BulkheadRejectionReason reason, TimeSpan queueTime, TimeSpan? retryAfter)
    {
        Debug.Assert(reason != BulkheadRejectionReason.None, "A rejected lease needs a reason.");
        Reason = reason;
        QueueTime = queueTime;
        RetryAfter = retryAfter;
        _released = 1;
    }

    /// <summary>Rejected: the caller cancelled while waiting (shared instance).</summary>
    internal static BulkheadLease CanceledLease { get; } = new(BulkheadRejectionReason.Canceled, TimeSpan.Zero, null);

    /// <summary>Rejected: the deadline had already passed on arrival (shared instance).</summary>
    internal static BulkheadLease DeadlineExceededLease { get; } = new(BulkheadRejectionReason.DeadlineExceeded, TimeSpan.Zero, null);

    /// <summary>Rejected: the bulkhead is disposed (shared instance).</summary>
    internal static BulkheadLease DisposedLease { get; } = new(BulkheadRejectionReason.Disposed, TimeSpan.Zero, null);

    /// <summary>Gets whether the lease holds a permit.</summary>
    public override bool IsAcquired => Reason == BulkheadRejectionReason.None;

    /// <summary>Gets why the permit was refused; <see cref="BulkheadRejectionReason.None"/> when acquired.</summary>
    public BulkheadRejectionReason Reason { get; }

    /// <summary>Gets how long the request waited in the queue (zero when it did not queue).</summary>
    public TimeSpan QueueTime { get; private set; }

    /// <summary>Gets the suggested wait before retrying, for overload rejections; otherwise null.</summary>
    /// <value>Between 50 ms and 30 s: the time the queue needs to drain at its recent completion rate.</value>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) when the permit was granted.</summary>
    internal long AcquiredTimestamp { get; private set; }

    /// <summary>Gets the tenant the permit is counted against (only when tenant shares are on).</summary>
    internal string? CountedTenant { get; private set; }

    /// <inheritdoc/>
    public override IEnumerable<string> MetadataNames =>
        IsAcquired ? s_noMetadata : RetryAfter is null ? s_reasonOnly : s_reasonAndRetryAfter;

    /// <inheritdoc/>
    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (!IsAcquired && metadataName == MetadataName.ReasonPhrase.Name)
        {
            metadata = Rejections.BulkheadRejectionMapper.ToReasonCode(Reason);
            return true;
        }

        if (RetryAfter is { } retryAfter && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = retryAfter;
            return true;
        }

        metadata = null;
        return false;
    }

    /// <summary>Prepares a pooled lease for a new holder.</summary>
    internal void Reset(long acquiredTimestamp, TimeSpan queueTime, string? countedTenant)
    {
        Debug.Assert(_owner is not null, "Only acquired leases are pooled.");
        AcquiredTimestamp = acquiredTimestamp;
        QueueTime = queueTime;
        CountedTenant = countedTenant;
        Volatile.Write(ref _released, 0);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // Exactly one release per grant even if Dispose races with itself.
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner?.Release(this);
        }

        base.Dispose(disposing);
    }
}
