using Grpc.Core;

namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>
/// Test and diagnostics hook into <see cref="BulkheadInterceptor"/>'s last step: called just before it runs a handler, with
/// the time its last deadline check read (a handler starts only when that time is before the call's deadline). An
/// observer that judges a start against the deadline uses this time, not a later read of its own clock: between the
/// check and the handler's first line a thread can be descheduled for as long as the machine likes (a CI run on a VM
/// with stolen cycles saw 48 ms), and no check can close that window.
/// </summary>
public interface IHandlerStartObserver
{
    /// <summary>Called on the call's thread after the deadline check passed, before the handler.</summary>
    /// <param name="context">The call.</param>
    /// <param name="deadline">The call's effective deadline (null: none).</param>
    /// <param name="checkedAt">The time the check read.</param>
    void OnHandlerStarting(ServerCallContext context, DateTimeOffset? deadline, DateTimeOffset checkedAt);
}

/// <summary>The default observer: nothing.</summary>
internal sealed class NullHandlerStartObserver : IHandlerStartObserver
{
    public void OnHandlerStarting(ServerCallContext context, DateTimeOffset? deadline, DateTimeOffset checkedAt)
    {
    }
}
