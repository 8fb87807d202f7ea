using System.Diagnostics;
using System.Threading.RateLimiting;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// The result of asking a <see cref="Bulkhead"/> for a permit. Disposing an acquired lease releases its permit.
/// </summary>
/// <remarks>
/// Every grant is its own lease object, so releasing is idempotent per grant: a second <see cref="IDisposable.Dispose"/>
/// or <see cref="Abandon"/> does nothing (leases were once pooled, and a second dispose after the lease had been
/// reissued released another holder's permit). Dispose a lease whose work ran (its hold time is a latency sample for
/// the adaptive limit and the queue-wait estimate); <see cref="Abandon"/> one whose work did not run or failed fast. A
/// <see cref="IsLongLived"/> lease (a stream's) is never a sample, however it is released.
/// Rejected leases that carry no data are shared static instances. <see cref="RateLimitLease.TryGetMetadata(string, out object?)"/> exposes
/// <see cref="MetadataName.RetryAfter"/> and <see cref="MetadataName.ReasonPhrase"/> (the kebab-case reason).
/// </remarks>
public sealed class BulkheadLease : RateLimitLease
{
    private static readonly string[] s_noMetadata = [];
    private static readonly string[] s_reasonOnly = [MetadataName.ReasonPhrase.Name];
    private static readonly string[] s_reasonAndRetryAfter = [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name];

    private readonly Bulkhead? _owner;
    private int _released;

    internal BulkheadLease(Bulkhead owner, long acquiredTimestamp, TimeSpan queueTime, string? countedTenant, bool longLived = false)
    {
        _owner = owner;
        AcquiredTimestamp = acquiredTimestamp;
        QueueTime = queueTime;
        CountedTenant = countedTenant;
        IsLongLived = longLived;
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
    public TimeSpan QueueTime { get; }

    /// <summary>Gets the suggested wait before retrying, for overload rejections; otherwise null.</summary>
    /// <value>Between 50 ms and 30 s: the time the queue needs to drain at its recent completion rate.</value>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// Gets whether the permit was asked for with <see cref="BulkheadRequest.LongLived"/>: its hold time is never a
    /// service-time sample, whether it is disposed or abandoned.
    /// </summary>
    public bool IsLongLived { get; }

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) when the permit was granted.</summary>
    internal long AcquiredTimestamp { get; }

    /// <summary>Gets the tenant the permit is counted against (only when tenant shares are on).</summary>
    internal string? CountedTenant { get; }

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

    /// <summary>
    /// Releases the permit without reporting the hold time as a latency sample: for work that did not run or ended
    /// early (a validation failure, a cancelled or failed call), whose time would mislead the adaptive limit's
    /// baseline and the service-time estimate behind <see cref="BulkheadRejectionReason.DeadlineUnmeetable"/> and the
    /// retry pushback. Idempotent, and a no-op after <see cref="IDisposable.Dispose"/> (the first release wins); a
    /// later <c>Dispose</c> only disposes.
    /// </summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner?.Release(this, sample: false);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // Exactly one release per grant, however often Dispose/Abandon are called and from how many threads.
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner?.Release(this, sample: true);
        }

        base.Dispose(disposing);
    }
}
