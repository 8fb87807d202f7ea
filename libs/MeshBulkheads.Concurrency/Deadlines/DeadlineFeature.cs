namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>The one <see cref="IDeadlineFeature"/>: set by the service's <see cref="DeadlineInterceptor"/> and by the gateway.</summary>
/// <param name="deadline">The effective deadline (UTC).</param>
/// <param name="timeout">The whole budget granted when the call arrived.</param>
/// <param name="source">Where the deadline came from.</param>
/// <param name="cancellationToken">Fires at the deadline or when the caller leaves.</param>
public sealed class DeadlineFeature(DateTimeOffset deadline, TimeSpan timeout, DeadlineSource source, CancellationToken cancellationToken) : IDeadlineFeature
{
    /// <inheritdoc/>
    public DateTimeOffset Deadline { get; } = deadline;

    /// <inheritdoc/>
    public TimeSpan Timeout { get; } = timeout;

    /// <inheritdoc/>
    public DeadlineSource Source { get; } = source;

    /// <inheritdoc/>
    public CancellationToken CancellationToken { get; } = cancellationToken;
}
