using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Pitfall switch <c>Render:Inline</c>: renders synchronously on the request thread, which is a
/// shared thread-pool thread. Under load this starves Kestrel, timers and every other async
/// continuation in the process — the seed's "avoid" cell, kept so people can see why. Admission
/// (the <c>render</c> bulkhead) is unchanged: only the thread the work runs on differs.
/// </summary>
public sealed class InlineRenderExecutor(IRenderJobObserver observer, RenderMetrics metrics, TimeProvider timeProvider) : IRenderExecutor
{
    public Task<RenderResult> ExecuteAsync(RenderParameters parameters, IDisposable? permit, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        using (permit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (RenderDeadline.HasPassed(deadline, timeProvider))
            {
                return Task.FromException<RenderResult>(RenderDeadline.Exceeded());
            }

            observer.OnJobStarting(parameters);
            var started = timeProvider.GetTimestamp();
            metrics.WorkerStarted();
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
            catch
            {
                metrics.JobFinished(RenderMetrics.ResultFailed, timeProvider.GetElapsedTime(started));
                throw;
            }
            finally
            {
                metrics.WorkerFinished();
            }
        }
    }
}
