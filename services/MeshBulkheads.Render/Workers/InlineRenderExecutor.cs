using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Pitfall switch <c>Render:Pitfalls:Inline</c>: renders synchronously on the request thread, which is a
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
            // One clock read for the last deadline check and what the observer is told.
            var checkedAt = timeProvider.GetUtcNow();
            if (DeadlineGuard.HasPassed(deadline, checkedAt))
            {
                return Task.FromException<RenderResult>(RenderDeadline.Exceeded());
            }

            observer.OnJobStarting(parameters, checkedAt);
            var started = timeProvider.GetTimestamp();
            metrics.WorkerStarted();
            try
            {
                var result = RenderExecutor.Execute(parameters, cancellationToken);
                metrics.JobFinished(MeshTelemetryResults.Completed, timeProvider.GetElapsedTime(started));
                return Task.FromResult(result);
            }
            catch (OperationCanceledException)
            {
                var result = DeadlineGuard.ExplainsCancellation(deadline, timeProvider) ? MeshTelemetryResults.Deadline : MeshTelemetryResults.Canceled;
                metrics.JobFinished(result, timeProvider.GetElapsedTime(started));
                throw;
            }
            catch
            {
                metrics.JobFinished(MeshTelemetryResults.Failed, timeProvider.GetElapsedTime(started));
                throw;
            }
            finally
            {
                metrics.WorkerFinished();
            }
        }
    }

    public Task<T> RunStreamStepAsync<T>(RenderParameters parameters, Func<CancellationToken, T> step, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (DeadlineGuard.HasPassed(deadline, timeProvider))
        {
            return Task.FromException<T>(RenderDeadline.Exceeded());
        }

        metrics.WorkerStarted();
        try
        {
            return Task.FromResult(step(cancellationToken));
        }
        finally
        {
            metrics.WorkerFinished();
        }
    }
}
