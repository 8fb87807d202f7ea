namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>A request waiting for a permit; completed exactly once, always under the bulkhead's lock.</summary>
internal sealed class Waiter : TaskCompletionSource<BulkheadLease>
{
    public Waiter(Bulkhead owner, long enqueuedAt, long deadlineAt, string? tenant, BulkheadCriticality criticality, bool longLived)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Owner = owner;
        EnqueuedAt = enqueuedAt;
        DeadlineAt = deadlineAt;
        Tenant = tenant;
        Criticality = criticality;
        LongLived = longLived;
        Node = new LinkedListNode<Waiter>(this);
    }

    public Bulkhead Owner { get; }

    public long EnqueuedAt { get; }

    /// <summary>Timestamp of the caller's deadline; <see cref="long.MaxValue"/> = none.</summary>
    public long DeadlineAt { get; }

    public string? Tenant { get; }

    public BulkheadCriticality Criticality { get; }

    /// <summary>The caller asked with <see cref="BulkheadRequest.LongLived"/>.</summary>
    public bool LongLived { get; }

    public LinkedListNode<Waiter> Node { get; }

    public CancellationTokenRegistration Registration { get; set; }
}
