using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>Decides where a render runs: the dedicated worker pool, or (pitfall switch) inline.</summary>
public interface IRenderDispatcher
{
    /// <summary>Renders, or throws <see cref="RenderQueueFullException"/> when overloaded.</summary>
    Task<RenderResult> RenderAsync(RenderParameters parameters, CancellationToken cancellationToken);
}

/// <summary>Test and diagnostics hook into a job's life.</summary>
public interface IRenderJobObserver
{
    /// <summary>Called after a job entered the worker queue (never in inline mode).</summary>
    void OnJobQueued(RenderParameters parameters);

    /// <summary>
    /// Called on the thread that executes a job just before it starts. A job removed from the queue
    /// (cancelled, deadline passed) never reaches it.
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

/// <summary>The worker queue is full: overload, mapped to UNAVAILABLE with pushback.</summary>
public sealed class RenderQueueFullException(int queueLimit, TimeSpan retryAfter)
    : Exception($"The render queue is full ({queueLimit} jobs waiting); retry after {(long)retryAfter.TotalMilliseconds} ms.")
{
    public int QueueLimit { get; } = queueLimit;

    /// <summary>How long the queue needs to drain, estimated from recent job durations.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
