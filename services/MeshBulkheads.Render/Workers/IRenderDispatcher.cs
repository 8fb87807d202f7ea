using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>Runs an admitted render: on the dedicated worker pool, or (pitfall switch) inline.</summary>
public interface IRenderExecutor
{
    /// <summary>
    /// Executes the render and disposes <paramref name="permit"/> (the bulkhead lease, or null when the
    /// unbounded-queue pitfall bypasses the bulkhead) exactly once, when the job has finished or was
    /// removed before it started.
    /// </summary>
    Task<RenderResult> ExecuteAsync(RenderParameters parameters, IDisposable? permit, DateTimeOffset? deadline, CancellationToken cancellationToken);
}

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
}

/// <summary>The default observer: does nothing.</summary>
public sealed class NullRenderJobObserver : IRenderJobObserver
{
    public void OnJobQueued(RenderParameters parameters)
    {
    }

    public void OnJobStarting(RenderParameters parameters)
    {
    }
}
