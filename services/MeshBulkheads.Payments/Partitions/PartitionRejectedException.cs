using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Payments.Partitions;

/// <summary>Why <see cref="ChargePartitions"/> refused a charge.</summary>
public enum PartitionRejectionReason
{
    /// <summary>The account's mailbox is full: overload (<c>partition-full</c>).</summary>
    PartitionFull,

    /// <summary>The process is stopping (<c>shutting-down</c>).</summary>
    ShuttingDown,
}

/// <summary>
/// A charge was not queued: <c>UNAVAILABLE</c> (<c>partition-full</c>, or <c>shutting-down</c>) with the mailbox's
/// drain time as pushback.
/// </summary>
/// <param name="reason">Why.</param>
/// <param name="partition">The mailbox index.</param>
/// <param name="message">What happened, for the caller.</param>
/// <param name="retryAfter">How long the mailbox needs to drain at its recent service time.</param>
public sealed class PartitionRejectedException(PartitionRejectionReason reason, int partition, string message, TimeSpan retryAfter)
    : MeshRejectionException(new MeshRejection(
        StatusCode.Unavailable,
        reason == PartitionRejectionReason.PartitionFull ? MeshRejectReasons.PartitionFull : MeshRejectReasons.ShuttingDown,
        message,
        retryAfter))
{
    /// <summary>Why.</summary>
    public PartitionRejectionReason Reason { get; } = reason;

    /// <summary>The mailbox index.</summary>
    public int Partition { get; } = partition;

    /// <summary>How long the mailbox needs to drain at its recent service time (the pushback sent).</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
