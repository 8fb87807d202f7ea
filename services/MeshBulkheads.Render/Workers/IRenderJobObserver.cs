using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>Test and diagnostics hook into a job's life.</summary>
public interface IRenderJobObserver
{
    /// <summary>Called after an admitted job entered the hand-off queue in front of the workers (never in inline mode).</summary>
    void OnJobQueued(RenderParameters parameters);

    /// <summary>
    /// Called on the thread that executes a job just before it starts. A job removed from a queue
    /// (cancelled, deadline passed, shed) never reaches it.
    /// </summary>
    void OnJobStarting(RenderParameters parameters);

    /// <summary>
    /// As <see cref="OnJobStarting(RenderParameters)"/>, with the time the executor read when it checked the job's deadline
    /// for the last time (a job starts only when that time is before its deadline): an observer that judges the start
    /// against the deadline uses this time, not a later read of its own clock.
    /// </summary>
    void OnJobStarting(RenderParameters parameters, DateTimeOffset checkedAt) => OnJobStarting(parameters);
}
