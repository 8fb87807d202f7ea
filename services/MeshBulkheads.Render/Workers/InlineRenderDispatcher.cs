using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Pitfall switch <c>Render:Inline</c>: renders synchronously on the request thread, which is a
/// shared thread-pool thread. Under load this starves Kestrel, timers and every other async
/// continuation in the process — the seed's "avoid" cell, kept so people can see why.
/// </summary>
public sealed class InlineRenderDispatcher(IRenderJobObserver observer, RenderMetrics metrics, TimeProvider timeProvider) : IRenderDispatcher
{
    public Task<RenderResult> RenderAsync(RenderParameters parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        observer.OnJobStarting(parameters);
        var started = timeProvider.GetTimestamp();
        try
        {
            var result = RenderExecutor.Execute(parameters, cancellationToken);
            metrics.JobFinished(RenderMetrics.ResultCompleted, timeProvider.GetElapsedTime(started));
            return Task.FromResult(result);
        }
        catch (OperationCanceledException)
        {
            metrics.JobFinished(RenderMetrics.ResultCanceled, timeProvider.GetElapsedTime(started));
            throw;
        }
    }
}
