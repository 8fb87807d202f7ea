namespace MeshBulkheads.Payments.Partitions;

/// <summary>Why <see cref="ChargePartitions"/> refused a charge.</summary>
public enum PartitionRejectionReason
{
    /// <summary>The account's mailbox is full: overload (<c>partition-full</c>).</summary>
    PartitionFull,

    /// <summary>The process is stopping (<c>shutting-down</c>).</summary>
    ShuttingDown,
}

/// <summary>A charge was not queued; <see cref="RetryAfter"/> is the pushback to send.</summary>
public sealed class PartitionRejectedException : Exception
{
    public PartitionRejectedException()
    {
    }

    public PartitionRejectedException(string message)
        : base(message)
    {
    }

    public PartitionRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Why.</summary>
    public PartitionRejectionReason Reason { get; init; }

    /// <summary>The mailbox index.</summary>
    public int Partition { get; init; }

    /// <summary>How long the mailbox needs to drain at its recent service time.</summary>
    public TimeSpan RetryAfter { get; init; }
}
