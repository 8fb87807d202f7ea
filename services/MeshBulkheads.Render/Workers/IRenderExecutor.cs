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

    /// <summary>
    /// Runs one step of a <c>RenderRows</c> stream (a row) on the executor's thread. The stream holds its bulkhead
    /// permit for its whole life, so a step takes none; it is not a render of its own in the job metrics or the
    /// observer. A step whose deadline has passed is not started.
    /// </summary>
    Task<T> RunStreamStepAsync<T>(RenderParameters parameters, Func<CancellationToken, T> step, DateTimeOffset? deadline, CancellationToken cancellationToken);
}
