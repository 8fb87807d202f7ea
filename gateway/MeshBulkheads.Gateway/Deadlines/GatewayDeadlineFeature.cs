using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// The effective deadline of a proxied call, set by <see cref="DeadlineMiddleware"/> when the call
/// arrives: the caller's <c>grpc-timeout</c>, the route's default, or the route's maximum.
/// </summary>
public sealed class GatewayDeadlineFeature(
    long arrivalTimestamp,
    TimeSpan timeout,
    DateTimeOffset deadline,
    DeadlineSource source,
    CancellationToken cancellationToken) : IDeadlineFeature
{
    /// <summary>When the call reached the gateway (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long ArrivalTimestamp { get; } = arrivalTimestamp;

    /// <summary>The whole budget granted on arrival.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <inheritdoc/>
    public DateTimeOffset Deadline { get; } = deadline;

    /// <inheritdoc/>
    public DeadlineSource Source { get; } = source;

    /// <inheritdoc/>
    public CancellationToken CancellationToken { get; } = cancellationToken;
}
