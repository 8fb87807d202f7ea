namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Why a <see cref="Bulkhead"/> did not grant a permit.</summary>
/// <remarks>
/// The wire mapping (gRPC status, <c>x-mesh-reject-reason</c>, pushback) lives in one place:
/// <see cref="Rejections.BulkheadRejectionMapper"/>.
/// </remarks>
public enum BulkheadRejectionReason
{
    /// <summary>Not rejected: the lease holds a permit.</summary>
    None = 0,

    /// <summary>All permits were busy and the wait queue was full (overload).</summary>
    QueueFull,

    /// <summary>The request waited <see cref="BulkheadOptions.MaxQueueTime"/> and was shed (overload).</summary>
    QueueTimeout,

    /// <summary>The caller's remaining deadline was shorter than the expected queue wait; rejected at once.</summary>
    DeadlineUnmeetable,

    /// <summary>The caller's deadline passed while it waited, or was already past when a permit was granted.</summary>
    DeadlineExceeded,

    /// <summary>The caller cancelled while it waited.</summary>
    Canceled,

    /// <summary>The adaptive limit had lowered the permit count below the configured limit and the queue was full (overload).</summary>
    AdaptiveLimit,

    /// <summary>The request's tenant already held its maximum share of permits and queue slots (overload for that tenant).</summary>
    TenantShare,

    /// <summary>The bulkhead was disposed.</summary>
    Disposed,
}
