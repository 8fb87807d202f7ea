namespace MeshBulkheads.Payments.Partitions.Internal;

/// <summary>A queued charge: the work, its caller's token, and the completion the caller awaits.</summary>
internal abstract class PartitionWorkItem
{
    private CancellationTokenRegistration _registration;

    protected PartitionWorkItem(PartitionWorkInfo info, long enqueuedAt, CancellationToken cancellationToken)
    {
        Info = info;
        EnqueuedAt = enqueuedAt;
        CancellationToken = cancellationToken;
    }

    public PartitionWorkInfo Info { get; }

    public long EnqueuedAt { get; }

    /// <summary>The caller's token: cancelled when it gives up or its deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Frees the caller at once when it gives up; the consumer skips the item when it reaches it.</summary>
    public void WatchCaller(Action<PartitionWorkInfo>? abandoned)
    {
        _registration = CancellationToken.UnsafeRegister(
            static state =>
            {
                var (item, callback) = ((PartitionWorkItem, Action<PartitionWorkInfo>?))state!;
                if (item.TrySetCanceled())
                {
                    callback?.Invoke(item.Info);
                }
            },
            (this, abandoned));
    }

    /// <summary>Runs the work and completes the caller's task; never throws.</summary>
    public abstract Task ExecuteAsync();

    public abstract bool TrySetCanceled();

    public abstract void Fail(Exception exception);

    protected void StopWatching() => _registration.Dispose();
}

/// <summary>A queued charge returning <typeparamref name="T"/>.</summary>
internal sealed class PartitionWorkItem<T>(
    PartitionWorkInfo info,
    long enqueuedAt,
    Func<CancellationToken, Task<T>> work,
    CancellationToken cancellationToken)
    : PartitionWorkItem(info, enqueuedAt, cancellationToken)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override async Task ExecuteAsync()
    {
        try
        {
            var result = await work(CancellationToken).ConfigureAwait(false);
            _completion.TrySetResult(result);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(CancellationToken);
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

    public override bool TrySetCanceled() => _completion.TrySetCanceled(CancellationToken);

    public override void Fail(Exception exception)
    {
        _completion.TrySetException(exception);
        StopWatching();
    }
}
