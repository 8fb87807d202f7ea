using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>
/// The one rule "never start work whose deadline has passed", and the one conversion between the mesh's deadline type
/// (<see cref="DateTimeOffset"/>, UTC) and gRPC's <see cref="DateTime"/>.
/// </summary>
/// <remarks>
/// Used before every start: the bulkhead's grant, the gateway's forwarding, render's worker, payments' partitions and
/// reporting's fan-out. A deadline that is exactly now has passed: there is no time left to do anything.
/// </remarks>
public static class DeadlineGuard
{
    /// <summary>Whether <paramref name="deadline"/> has passed.</summary>
    /// <param name="deadline">The deadline; null is none.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>True when the deadline is now or earlier.</returns>
    public static bool HasPassed(DateTimeOffset? deadline, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return HasPassed(deadline, timeProvider.GetUtcNow());
    }

    /// <summary>Whether <paramref name="deadline"/> has passed at <paramref name="now"/>.</summary>
    /// <param name="deadline">The deadline; null is none.</param>
    /// <param name="now">The current time.</param>
    /// <returns>True when the deadline is <paramref name="now"/> or earlier.</returns>
    public static bool HasPassed(DateTimeOffset? deadline, DateTimeOffset now) => deadline is { } d && now >= d;

    /// <summary>Whether a deadline kept as a <see cref="TimeProvider.GetTimestamp"/> value has passed (hot paths that avoid wall-clock reads).</summary>
    /// <param name="deadlineTimestamp">The deadline's timestamp; <see cref="long.MaxValue"/> is none.</param>
    /// <param name="nowTimestamp">The current timestamp.</param>
    /// <returns>True when the deadline is now or earlier.</returns>
    public static bool HasPassed(long deadlineTimestamp, long nowTimestamp) => deadlineTimestamp != long.MaxValue && nowTimestamp >= deadlineTimestamp;

    /// <summary>How early a deadline's timer (<c>CancelAfter</c>, grpc-dotnet's deadline timer) may fire before the clock reaches the deadline.</summary>
    public static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(16);

    /// <summary>
    /// Whether a cancellation seen now is the deadline's: its timer may fire up to <see cref="TimerSlack"/> before the clock
    /// reaches it, so "has passed" alone would call such a call canceled by its caller.
    /// </summary>
    /// <param name="deadline">The deadline; null is none.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>True when the deadline is at most <see cref="TimerSlack"/> away or has passed.</returns>
    public static bool ExplainsCancellation(DateTimeOffset? deadline, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return ExplainsCancellation(deadline, timeProvider.GetUtcNow());
    }

    /// <summary>As <see cref="ExplainsCancellation(DateTimeOffset?, TimeProvider)"/>, at a time already read.</summary>
    /// <param name="deadline">The deadline; null is none.</param>
    /// <param name="now">The current time.</param>
    /// <returns>True when the deadline is at most <see cref="TimerSlack"/> away or has passed.</returns>
    public static bool ExplainsCancellation(DateTimeOffset? deadline, DateTimeOffset now) => deadline is { } d && now >= d - TimerSlack;

    /// <summary>As <see cref="ExplainsCancellation(DateTimeOffset?, TimeProvider)"/>, for a deadline kept as a timestamp.</summary>
    /// <param name="deadlineTimestamp">The deadline's timestamp; <see cref="long.MaxValue"/> is none.</param>
    /// <param name="nowTimestamp">The current timestamp.</param>
    /// <param name="timestampFrequency">Timestamp ticks per second (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    /// <returns>True when the deadline is at most <see cref="TimerSlack"/> away or has passed.</returns>
    public static bool ExplainsCancellation(long deadlineTimestamp, long nowTimestamp, long timestampFrequency) =>
        deadlineTimestamp != long.MaxValue
        && nowTimestamp >= deadlineTimestamp - (long)(TimerSlack.TotalSeconds * timestampFrequency);

    /// <summary>The time left until <paramref name="deadline"/> (negative once it has passed).</summary>
    /// <param name="deadline">The deadline.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>The time left.</returns>
    public static TimeSpan Remaining(DateTimeOffset deadline, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return deadline - timeProvider.GetUtcNow();
    }

    /// <summary>
    /// The effective deadline of a call: <see cref="IDeadlineFeature"/> when the deadline interceptor set it, else
    /// <c>ServerCallContext.Deadline</c> (<see cref="DateTime.MaxValue"/> is none).
    /// </summary>
    /// <param name="context">The call.</param>
    /// <returns>The deadline, or null.</returns>
    public static DateTimeOffset? Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetHttpContext().Features.Get<IDeadlineFeature>() is { } feature ? feature.Deadline : FromGrpc(context.Deadline);
    }

    /// <summary>A gRPC deadline (<see cref="DateTime"/> UTC, <see cref="DateTime.MaxValue"/> is none) as the mesh's type.</summary>
    /// <param name="deadline">The gRPC deadline.</param>
    /// <returns>The deadline, or null.</returns>
    public static DateTimeOffset? FromGrpc(DateTime deadline) =>
        deadline == DateTime.MaxValue ? null : new DateTimeOffset(DateTime.SpecifyKind(deadline, DateTimeKind.Utc));

    /// <summary>The mesh's deadline as gRPC's <see cref="DateTime"/> (UTC), for client calls and <c>ServerCallContext</c>.</summary>
    /// <param name="deadline">The deadline.</param>
    /// <returns>The UTC <see cref="DateTime"/>.</returns>
    public static DateTime ToGrpc(DateTimeOffset deadline) => deadline.UtcDateTime;

    /// <summary>The rejection of a call whose deadline passed (before its work started, or while it ran): <c>DEADLINE_EXCEEDED</c>, <c>deadline-exceeded</c>, no pushback.</summary>
    /// <param name="message">What happened, for the caller.</param>
    /// <returns>The rejection.</returns>
    public static MeshRejection Exceeded(string message) =>
        new(StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, message);
}
