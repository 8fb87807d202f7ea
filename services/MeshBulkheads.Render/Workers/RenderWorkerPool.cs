using MeshBulkheads.Render.Rendering;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// N dedicated threads fed by a bounded FIFO queue. CPU-bound renders run here, never on Kestrel's
/// request threads or the shared thread pool, so a render burst cannot starve the process's async
/// work (timers, I/O completions, health probes). A full queue rejects at once instead of growing.
/// </summary>
/// <remarks>
/// Service-local on purpose: once <c>MeshBulkheads.Concurrency</c> ships its Bulkhead, admission
/// (queue limit, queue-time shedding, deadline checks) can move there and this class keeps only
/// the dedicated threads.
/// </remarks>
public sealed class RenderWorkerPool : IRenderDispatcher, IDisposable
{
    // Pushback when no job has finished yet: about one small render on this machine.
    private static readonly TimeSpan InitialJobEstimate = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MinPushback = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxPushback = TimeSpan.FromSeconds(30);
    private const double EstimateWeight = 0.2;

    // A plain monitor, not System.Threading.Lock: the workers sleep on it with Monitor.Wait.
    private readonly object _lock = new();
    private readonly LinkedList<RenderJob> _queue = new();
    private readonly Thread[] _threads;
    private readonly int _queueLimit;
    private readonly IRenderJobObserver _observer;
    private readonly RenderMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _shutdown = new();
    private int _busy;
    private bool _stopping;
    private double _jobSecondsEstimate = InitialJobEstimate.TotalSeconds;

    public RenderWorkerPool(IOptions<RenderOptions> options, IRenderJobObserver observer, RenderMetrics metrics, TimeProvider timeProvider)
    {
        var settings = options.Value;
        _queueLimit = settings.QueueLimit;
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
            _threads[i].Start();
        }

        metrics.ObservePool(() => QueueDepth, () => Volatile.Read(ref _busy), _threads.Length);
    }

    public int WorkerCount => _threads.Length;

    public int QueueDepth
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public Task<RenderResult> RenderAsync(RenderParameters parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var job = new RenderJob(this, parameters, cancellationToken);
        // Registered before the job is queued: if cancellation wins the race, the check under the
        // lock below sees it and the job is never queued; otherwise the callback removes it.
        job.Registration = cancellationToken.UnsafeRegister(
            static state =>
            {
                var queued = (RenderJob)state!;
                queued.Pool.RemoveQueued(queued);
            },
            job);

        TimeSpan? rejectedRetryAfter = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (cancellationToken.IsCancellationRequested)
            {
                job.Completion.TrySetCanceled(cancellationToken);
            }
            else if (_queue.Count >= _queueLimit)
            {
                rejectedRetryAfter = EstimateDrainTimeLocked();
            }
            else
            {
                job.Node = _queue.AddLast(job);
                Monitor.Pulse(_lock);
            }
        }

        if (rejectedRetryAfter is { } retryAfter)
        {
            job.Registration.Dispose();
            _metrics.JobCounted(RenderMetrics.ResultQueueFull);
            throw new RenderQueueFullException(_queueLimit, retryAfter);
        }

        if (job.Node is not null)
        {
            _observer.OnJobQueued(parameters);
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
            job.Completion.TrySetException(new ObjectDisposedException(nameof(RenderWorkerPool), "The render service is shutting down."));
        }

        foreach (var thread in _threads)
        {
            // Running renders see the shutdown token within one row.
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _shutdown.Dispose();
    }

    private void RemoveQueued(RenderJob job)
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
            // Never started: the caller went away (cancelled or deadline) while it waited.
            job.Completion.TrySetCanceled(job.CancellationToken);
            _metrics.JobCounted(RenderMetrics.ResultCanceled);
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
                _busy++;
            }

            var started = _timeProvider.GetTimestamp();
            var result = Run(job);
            var elapsed = _timeProvider.GetElapsedTime(started);
            lock (_lock)
            {
                _busy--;
                if (result == RenderMetrics.ResultCompleted)
                {
                    _jobSecondsEstimate += EstimateWeight * (elapsed.TotalSeconds - _jobSecondsEstimate);
                }
            }

            _metrics.JobFinished(result, elapsed);
        }
    }

    private string Run(RenderJob job)
    {
        // The removal callback is no longer needed; Dispose waits if it is running right now,
        // and it only takes the queue lock, which this thread does not hold.
        job.Registration.Dispose();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(job.CancellationToken, _shutdown.Token);
        try
        {
            linked.Token.ThrowIfCancellationRequested();
            _observer.OnJobStarting(job.Parameters);
            job.Completion.TrySetResult(RenderExecutor.Execute(job.Parameters, linked.Token));
            return RenderMetrics.ResultCompleted;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            job.Completion.TrySetCanceled(job.CancellationToken.IsCancellationRequested ? job.CancellationToken : linked.Token);
            return RenderMetrics.ResultCanceled;
        }
        catch (Exception ex)
        {
            job.Completion.TrySetException(ex);
            return RenderMetrics.ResultFailed;
        }
    }

    /// <summary>
    /// Pushback for a rejected job: how long the queue ahead of it needs to drain at the recent
    /// job rate (queued + running jobs × average duration ÷ workers), bounded to a sane range.
    /// </summary>
    private TimeSpan EstimateDrainTimeLocked()
    {
        var seconds = (_queue.Count + _busy) * _jobSecondsEstimate / _threads.Length;
        var estimate = TimeSpan.FromSeconds(seconds);
        return estimate < MinPushback ? MinPushback : estimate > MaxPushback ? MaxPushback : estimate;
    }

    private sealed class RenderJob(RenderWorkerPool pool, RenderParameters parameters, CancellationToken cancellationToken)
    {
        public RenderWorkerPool Pool { get; } = pool;

        public RenderParameters Parameters { get; } = parameters;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        // The handler awaits this; continuations must not run on (and steal) a render worker.
        public TaskCompletionSource<RenderResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public LinkedListNode<RenderJob>? Node { get; set; }
    }
}
