namespace MeshBulkheads.Concurrency.Telemetry;

/// <summary>
/// The <see cref="MeshTelemetryTags.Result"/> values that mean the same on every concurrency primitive's
/// <c>.requests</c> counter (bulkhead, render workers, charge partitions), so a dashboard filters one value
/// across all of them. A primitive's own outcomes (<c>acquired</c>, <c>queue_full</c>, <c>skipped</c>, …) stay
/// with it.
/// </summary>
public static class MeshTelemetryResults
{
    /// <summary>The work ran to its end.</summary>
    public const string Completed = "completed";

    /// <summary>The caller cancelled (while queued, or while its work ran).</summary>
    public const string Canceled = "canceled";

    /// <summary>The caller's deadline passed, or could not be met.</summary>
    public const string Deadline = "deadline";

    /// <summary>The work failed with an unexpected error.</summary>
    public const string Failed = "failed";
}
