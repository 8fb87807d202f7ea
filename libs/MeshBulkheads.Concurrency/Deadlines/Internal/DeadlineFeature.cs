namespace MeshBulkheads.Concurrency.Deadlines.Internal;

internal sealed class DeadlineFeature(DateTimeOffset deadline, DeadlineSource source, CancellationToken cancellationToken) : IDeadlineFeature
{
    public DateTimeOffset Deadline { get; } = deadline;

    public DeadlineSource Source { get; } = source;

    public CancellationToken CancellationToken { get; } = cancellationToken;
}
