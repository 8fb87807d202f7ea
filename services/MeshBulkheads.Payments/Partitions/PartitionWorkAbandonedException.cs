namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// A charge's caller cancelled, or its deadline passed, before the charge completed. <see cref="WorkStarted"/>
/// tells the two cases apart: a charge still queued was never started (nothing was recorded); one that had
/// started may have been recorded (it may even have committed already), so only a retry with the same
/// idempotency key can tell its outcome.
/// </summary>
public sealed class PartitionWorkAbandonedException : OperationCanceledException
{
    public PartitionWorkAbandonedException()
    {
    }

    public PartitionWorkAbandonedException(string message)
        : base(message)
    {
    }

    public PartitionWorkAbandonedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a caller whose token fired.</summary>
    public PartitionWorkAbandonedException(bool workStarted, CancellationToken cancellationToken)
        : base(
            workStarted
                ? "The caller gave up while its charge was running: it may have been recorded."
                : "The caller gave up while its charge was queued: it was never started.",
            cancellationToken)
    {
        WorkStarted = workStarted;
    }

    /// <summary>Whether a consumer had started the work when the caller gave up.</summary>
    public bool WorkStarted { get; }
}
