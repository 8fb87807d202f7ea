using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// N dedicated threads that execute admitted renders. CPU-bound renders run here, never on Kestrel's
/// request threads or the shared thread pool, so a render burst cannot starve the process's async
/// work (timers, I/O completions, health probes).
/// </summary>
/// <remarks>
/// Admission is not decided here: the shared bulkhead <c>render</c> (permits = worker count) is the
/// queue, with its limit, queue-time shedding and deadline checks. A job reaches this pool only with a
/// permit, so the hand-off queue in front of the threads never holds more than one job per worker;
/// it is bounded to the worker count and a job beyond that is a bug, not overload (the
/// <c>Bulkheads:render:Pitfalls:UnboundedQueue</c> switch unbounds the bulkhead's queue, not this one).
/// The threads are started without the creator's <see cref="ExecutionContext"/> (<c>UnsafeStart</c>): a pool
/// created inside a request would otherwise make every later job see that request's <c>Activity</c> and
/// <c>AsyncLocal</c>s. Each job runs under the <see cref="ExecutionContext"/> of the caller that submitted
/// it, so its spans and log scopes parent to that caller's server span.
/// </remarks>
public sealed class RenderWorkerPool : IRenderExecutor, IDisposable
{
    // A plain monitor, not System.Threading.Lock: the workers sleep on it with Monitor.Wait.
    private readonly object _lock = new();
    private readonly LinkedList<RenderJob> _queue = new();
    private readonly Thread[] _threads;
    private readonly int _handOffLimit;
    private readonly IRenderJobObserver _observer;
    private readonly RenderMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private const string RenderPath = RenderBulkheads.MethodPrefix + "Render";
    private readonly FaultPipelines? _faults;
    private readonly CancellationTokenSource _shutdown = new();
    private bool _stopping;

    public RenderWorkerPool(IOptions<RenderOptions> options, IRenderJobObserver observer, RenderMetrics metrics, TimeProvider timeProvider, FaultPipelines? faults = null)
    {
        _faults = faults;
        var settings = options.Value;
        _handOffLimit = settings.EffectiveWorkers;
        _observer = observer;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _threads = new Thread[settings.EffectiveWorkers];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop)
            {
                Name = $"render-worker-{i}",
                // Background: a stuck render must not keep the process alive after shutdown.
                IsBackground = true,
                Priority = settings.BelowNormalPriority ? ThreadPriority.BelowNormal : ThreadPriority.Normal,
            };
            // UnsafeStart: the thread does not capture (and keep for ever) the creator's ExecutionContext.
            _threads[i].UnsafeStart();
        }
    }

    public int WorkerCount => _threads.Length;

    /// <summary>Admitted jobs waiting for a thread (at most one per worker).</summary>
    public int HandOffDepth
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public Task<RenderResult> ExecuteAsync(RenderParameters parameters, IDisposable? permit, DateTimeOffset? deadline, CancellationToken cancellationToken) =>
        Submit(new RenderJob<RenderResult>(this, parameters, permit, deadline, ExecutionContext.Capture(), isStreamStep: false, token => RenderExecutor.Execute(parameters, token), cancellationToken));

    public Task<T> RunStreamStepAsync<T>(RenderParameters parameters, Func<CancellationToken, T> step, DateTimeOffset? deadline, CancellationToken cancellationToken) =>
        // No permit of its own: the stream holds one for its life, and each step uses that permit's worker slot.
        Submit(new RenderJob<T>(this, parameters, permit: null, deadline, ExecutionContext.Capture(), isStreamStep: true, step, cancellationToken));

    private Task<T> Submit<T>(RenderJob<T> job)
    {
        // The job carries the caller's context (its Activity, AsyncLocals), restored around the job on the worker.
        var cancellationToken = job.CancellationToken;
        // Registered before the job is queued: if cancellation wins the race, the check under the
        // lock below sees it and the job is never queued; otherwise the callback removes it.
        job.Registration = cancellationToken.UnsafeRegister(
            static state =>
            {
                var queued = (RenderJob)state!;
                queued.Pool.RemoveQueued(queued);
            },
            job);

        var overflow = false;
        lock (_lock)
        {
            if (_stopping)
            {
                job.Fail(new ObjectDisposedException(nameof(RenderWorkerPool), "The render service is shutting down."));
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                job.Cancel(cancellationToken);
            }
            else if (_queue.Count >= _handOffLimit)
            {
                overflow = true;
            }
            else
            {
                job.Node = _queue.AddLast(job);
                Monitor.Pulse(_lock);
            }
        }

        if (job.Node is null)
        {
            job.Registration.Dispose();
            job.Permit?.Dispose();
            if (overflow)
            {
                // Permits = workers, so this cannot happen unless the bulkhead's limit and the pool disagree.
                throw new InvalidOperationException($"The render hand-off queue is full ({_handOffLimit}) although the job was admitted: the render bulkhead's permits exceed the worker count.");
            }

            return job.Completion.Task;
        }

        if (!job.IsStreamStep)
        {
            _observer.OnJobQueued(job.Parameters);
        }

        return job.Completion.Task;
    }

    public void Dispose()
    {
        List<RenderJob> abandoned;
        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            abandoned = [.. _queue];
            _queue.Clear();
            Monitor.PulseAll(_lock);
        }

        _shutdown.Cancel();
        foreach (var job in abandoned)
        {
            job.Permit?.Dispose();
            job.Fail(new ObjectDisposedException(nameof(RenderWorkerPool), "The render service is shutting down."));
        }

        foreach (var thread in _threads)
        {
            // Running renders see the shutdown token within one row.
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _shutdown.Dispose();
    }

    internal void RemoveQueued(RenderJob job)
    {
        bool removed;
        lock (_lock)
        {
            removed = job.Node?.List is not null;
            if (removed)
            {
                _queue.Remove(job.Node!);
            }
        }

        if (removed)
        {
            // Never started: the caller went away (cancelled or deadline) while it waited for a thread.
            job.Permit?.Dispose();
            job.Cancel(job.CancellationToken);
            if (!job.IsStreamStep)
            {
                _metrics.JobCounted(DeadlineGuard.ExplainsCancellation(job.Deadline, _timeProvider) ? MeshTelemetryResults.Deadline : MeshTelemetryResults.Canceled);
            }
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            RenderJob job;
            lock (_lock)
            {
                while (_queue.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_lock);
                }

                if (_stopping)
                {
                    return;
                }

                job = _queue.First!.Value;
                _queue.RemoveFirst();
            }

            _metrics.WorkerStarted();
            var started = _timeProvider.GetTimestamp();
            string result;
            try
            {
                result = RunInCallerContext(job);
            }
            finally
            {
                // Released here, on the worker, so the next waiter is admitted as soon as this thread is free,
                // and before the caller learns the outcome: a caller that sends its next render on the
                // response finds its permit already returned.
                job.Permit?.Dispose();
                _metrics.WorkerFinished();
                job.Complete();
            }

            // A stream's step is a slice of one call, counted once when the stream ends (RenderRowStreamer).
            if (!job.IsStreamStep)
            {
                _metrics.JobFinished(result, _timeProvider.GetElapsedTime(started));
            }
        }
    }

    private string RunInCallerContext(RenderJob job)
    {
        if (job.CallerContext is not { } context)
        {
            // The caller suppressed flow: run with the worker's own (empty) context.
            return Run(job);
        }

        ExecutionContext.Run(context, static state => ((RenderJob)state!).Result = ((RenderJob)state!).Pool.Run((RenderJob)state!), job);
        return job.Result ?? MeshTelemetryResults.Failed;
    }

    internal string Run(RenderJob job)
    {
        // The removal callback is no longer needed; Dispose waits if it is running right now,
        // and it only takes the queue lock, which this thread does not hold.
        job.Registration.Dispose();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(job.CancellationToken, _shutdown.Token);
        try
        {
            linked.Token.ThrowIfCancellationRequested();
            // The deadline timer behind the token runs on the shared thread pool and can fire late
            // under load: check the clock too, so no render starts for a caller that has given up.
            // One clock read for the check and for what the observer is told (a second read could fall past the deadline).
            var checkedAt = _timeProvider.GetUtcNow();
            if (DeadlineGuard.HasPassed(job.Deadline, checkedAt))
            {
                job.DeferFailure(RenderDeadline.Exceeded());
                return MeshTelemetryResults.Deadline;
            }

            if (!job.IsStreamStep)
            {
                _observer.OnJobStarting(job.Parameters, checkedAt);
            }

            // The render-worker fault point (docs/faults.md): latency or CPU on this worker (a slower renderer), or an
            // error, before the real work. A worker is a dedicated thread, so an injected wait may block it.
            if (_faults is { } faults && faults.Faults.HasAny(FaultTargets.RenderWorker))
            {
                faults.InjectAsync(FaultTargets.RenderWorker, RenderPath, linked.Token).AsTask().GetAwaiter().GetResult();
            }

            job.Work(linked.Token);
            return MeshTelemetryResults.Completed;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            var token = job.CancellationToken.IsCancellationRequested ? job.CancellationToken : linked.Token;
            job.DeferCanceled(token);
            // The call's token fires both when the caller leaves and when its deadline passes: the clock tells them apart.
            return DeadlineGuard.ExplainsCancellation(job.Deadline, _timeProvider) ? MeshTelemetryResults.Deadline : MeshTelemetryResults.Canceled;
        }
        catch (Exception ex)
        {
            job.DeferFailure(ex);
            return MeshTelemetryResults.Failed;
        }
    }
}
