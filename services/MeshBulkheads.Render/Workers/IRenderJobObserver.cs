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
}
