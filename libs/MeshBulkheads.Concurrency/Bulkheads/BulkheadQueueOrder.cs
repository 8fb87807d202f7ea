namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Which waiter receives the next free permit.</summary>
public enum BulkheadQueueOrder
{
    /// <summary>Oldest first. Required on ordered routes (per-account work).</summary>
    Fifo = 0,

    /// <summary>
    /// Oldest first while the queue is healthy; newest first while it is congested (its oldest waiter is
    /// older than <see cref="BulkheadOptions.CongestionThreshold"/>). Newest-first serves the callers that
    /// still have time left instead of those likely to have given up; <see cref="BulkheadOptions.MaxQueueTime"/>
    /// bounds everyone's wait, so nobody starves. Never use on ordered routes: it reorders requests.
    /// </summary>
    AdaptiveLifo = 1,
}
