namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>The bounds of the retry delay suggested to a rejected caller.</summary>
public static class BulkheadRetryAfter
{
    /// <summary>
    /// Bounds a suggested retry delay to 50 ms–30 s (<see cref="BulkheadConstants.MinRetryAfter"/>–<see cref="BulkheadConstants.MaxRetryAfter"/>):
    /// a shorter pushback only invites a retry storm, a longer one outlives any deadline.
    /// </summary>
    /// <param name="retryAfter">The raw estimate, e.g. queue length × mean service time.</param>
    /// <returns>The bounded delay.</returns>
    public static TimeSpan Bound(TimeSpan retryAfter) =>
        retryAfter < BulkheadConstants.MinRetryAfter ? BulkheadConstants.MinRetryAfter
        : retryAfter > BulkheadConstants.MaxRetryAfter ? BulkheadConstants.MaxRetryAfter
        : retryAfter;
}
