namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Observation points inside <see cref="ChargePartitions"/> so tests can gate a consumer and know when a
/// charge was queued, abandoned or skipped without sleeping. Register one as a singleton; none by default.
/// </summary>
public sealed class ChargePartitionHooks
{
    /// <summary>Called after a charge was accepted into a mailbox.</summary>
    public Action<PartitionWorkInfo>? Enqueued { get; init; }

    /// <summary>Awaited by the consumer just before it starts a charge (a test gate).</summary>
    public Func<PartitionWorkInfo, Task>? BeforeExecuteAsync { get; init; }

    /// <summary>Called when a charge's caller cancelled or its deadline passed before it completed (queued or running).</summary>
    public Action<PartitionWorkInfo>? Abandoned { get; init; }

    /// <summary>Called when a consumer dequeued an abandoned charge and did not start it.</summary>
    public Action<PartitionWorkInfo>? Skipped { get; init; }
}
