using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>What <see cref="DeadlineResolver"/> decided for one call: an effective deadline, or a rejection.</summary>
/// <remarks>When <see cref="Rejection"/> is set, the call must not start; the other members are then meaningless.</remarks>
public readonly record struct DeadlineResolution
{
    /// <summary>The effective deadline (UTC).</summary>
    public DateTimeOffset Deadline { get; init; }

    /// <summary>The budget from arrival to <see cref="Deadline"/>.</summary>
    public TimeSpan Timeout { get; init; }

    /// <summary>Where the deadline came from.</summary>
    public DeadlineSource Source { get; init; }

    /// <summary>The refusal (<c>malformed-grpc-timeout</c>, <c>deadline-exceeded</c>), or null when the call may start.</summary>
    public MeshRejection? Rejection { get; init; }
}
