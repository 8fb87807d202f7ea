using MeshBulkheads.Concurrency.Bulkheads.Internal;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Outcomes: rejected leases with their retry pushback, and the counters, metrics and log of every result.</summary>
public sealed partial class Bulkhead
{
    /// <summary>The suggested retry delay: how long the current queue needs to drain, bounded to 50 ms–30 s.</summary>
    internal TimeSpan SuggestRetryAfter()
    {
        var drain = _serviceTime.HasSamples
            ? TicksToTimeSpan(EstimateWaitTicks(_queue.Count + 1))
            : _options.MaxQueueTime;
        return BulkheadRetryAfter.Bound(drain);
    }

    /// <summary>Counts a lease handed to its caller (for a waiter: after the post-grant deadline check).</summary>
    private void CountAcquired()
    {
        Interlocked.Increment(ref _successfulLeases);
        if (_metrics?.Requests.Enabled == true)
        {
            _metrics.Requests.Add(1, _nameTag, new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.Acquired));
        }
    }

    private BulkheadLease Reject(BulkheadRejectionReason reason) =>
        Reject(RejectNew(reason, TimeSpan.Zero));

    private BulkheadLease RejectNew(BulkheadRejectionReason reason, TimeSpan queueTime)
    {
        TimeSpan? retryAfter = reason is BulkheadRejectionReason.QueueFull or BulkheadRejectionReason.QueueTimeout
            or BulkheadRejectionReason.AdaptiveLimit or BulkheadRejectionReason.TenantShare
            ? SuggestRetryAfter()
            : null;
        return new BulkheadLease(reason, queueTime, retryAfter);
    }

    private BulkheadLease Reject(BulkheadLease lease)
    {
        Interlocked.Increment(ref _failedLeases);
        if (_metrics?.Requests.Enabled == true)
        {
            _metrics.Requests.Add(1, _nameTag, new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.For(lease.Reason)));
        }

        BulkheadLog.RequestRejected(_logger, Name, lease.Reason);
        return lease;
    }

    private BulkheadRejectionReason OverloadReason() =>
        _adaptive is not null && _permitLimit < _options.PermitLimit ? BulkheadRejectionReason.AdaptiveLimit : BulkheadRejectionReason.QueueFull;

    private void RecordQueueTime(TimeSpan queueTime, BulkheadRejectionReason reason)
    {
        if (_metrics?.TimeInQueue.Enabled == true)
        {
            _metrics.TimeInQueue.Record(
                queueTime.TotalSeconds,
                _nameTag,
                new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.For(reason)));
        }
    }
}
