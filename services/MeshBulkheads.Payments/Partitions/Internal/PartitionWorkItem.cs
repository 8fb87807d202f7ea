namespace MeshBulkheads.Payments.Partitions.Internal;

/// <summary>
/// A queued charge: the work, its caller's token and execution context, and the completion the caller awaits.
/// Its state moves once, atomically, from queued to either running (a consumer started it) or abandoned (the
/// caller gave up first), so a caller told "never started" is never started.
/// </summary>
internal abstract class PartitionWorkItem(PartitionWorkInfo info, long enqueuedAt, ExecutionContext? context, CancellationToken cancellationToken)
{
    private const int Queued = 0;
    private const int Running = 1;
    private const int Abandoned = 2;

    private CancellationTokenRegistration _registration;
    private int _state;

    public PartitionWorkInfo Info { get; } = info;

    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>The caller's token: cancelled when it gives up or its deadline passes.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The caller's execution context (its <c>Activity.Current</c> among others), captured at enqueue.</summary>
    protected ExecutionContext? Context { get; } = context;

    /// <summary>Frees the caller at once when it gives up; a queued item is then skipped by its consumer.</summary>
    public void WatchCaller(Action<PartitionWorkInfo>? abandoned)
    {
        _registration = CancellationToken.UnsafeRegister(
            static state =>
            {
                var (item, callback) = ((PartitionWorkItem, Action<PartitionWorkInfo>?))state!;
                if (item.CallerGone())
                {
                    callback?.Invoke(item.Info);
                }
            },
            (this, abandoned));
    }

    /// <summary>
    /// Moves a queued item to running; false when its caller already gave up (then it is abandoned and must
    /// not start).
    /// </summary>
    public bool TryStart()
    {
        if (CancellationToken.IsCancellationRequested)
        {
            TryAbandon();
            return false;
        }

        return Interlocked.CompareExchange(ref _state, Running, Queued) == Queued;
    }

    /// <summary>Abandons a queued item (its caller gave up); false when it had already started or completed.</summary>
    public bool TryAbandon() => TryAbandonForShutdown() && TrySetAbandoned(workStarted: false);

    /// <summary>Moves a queued item to abandoned without completing it (the caller completes it); false when it had started or was abandoned.</summary>
    public bool TryAbandonForShutdown()
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Queued) != Queued)
        {
            return false;
        }

        StopWatching();
        return true;
    }

    /// <summary>Runs the work under the caller's execution context and completes the caller's task; never throws.</summary>
    public abstract Task ExecuteAsync();

    public abstract void Fail(Exception exception);

    protected abstract bool TrySetAbandoned(bool workStarted);

    protected void StopWatching() => _registration.Dispose();

    private bool CallerGone()
    {
        var workStarted = Interlocked.CompareExchange(ref _state, Abandoned, Queued) != Queued;
        return TrySetAbandoned(workStarted);
    }
}

/// <summary>A queued charge returning <typeparamref name="T"/>.</summary>
internal sealed class PartitionWorkItem<T>(
    PartitionWorkInfo info,
    long enqueuedAt,
    Func<CancellationToken, Task<T>> work,
    ExecutionContext? context,
    CancellationToken cancellationToken)
    : PartitionWorkItem(info, enqueuedAt, context, cancellationToken)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override async Task ExecuteAsync()
    {
        try
        {
            var result = await StartWork().ConfigureAwait(false);
            _completion.TrySetResult(result);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            TrySetAbandoned(workStarted: true);
        }
        catch (Exception ex)
        {
            _completion.TrySetException(ex);
        }
        finally
        {
            StopWatching();
        }
    }

    public override void Fail(Exception exception)
    {
        _completion.TrySetException(exception);
        StopWatching();
    }

    protected override bool TrySetAbandoned(bool workStarted) =>
        _completion.TrySetException(new PartitionWorkAbandonedException(workStarted, CancellationToken));

    private Task<T> StartWork()
    {
        if (Context is null)
        {
            return work(CancellationToken);
        }

        // The work's spans (db.pool.wait, db.query) parent to the caller's server span, and its logs carry the
        // caller's scope: the consumer's own context is empty (it was started with flow suppressed).
        Task<T>? started = null;
        ExecutionContext.Run(Context, _ => started = work(CancellationToken), null);
        return started!;
    }
}
