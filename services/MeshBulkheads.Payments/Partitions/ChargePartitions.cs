using System.Threading.Channels;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Payments.Partitions.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Keyed partitions for charges: a stable hash of (tenant, account) picks one of N bounded mailboxes, each
/// drained by exactly one consumer, so one account's charges start in submission order and never overlap,
/// and a hot account fills only its own mailbox while the other N − 1 keep going. A full mailbox is
/// overload (<see cref="PartitionRejectedException"/>); a charge whose caller gave up while queued is skipped.
/// </summary>
/// <remarks>
/// This orders work inside one process only. Across replicas the database still serializes each account
/// (row lock / single writer): partitions make that lock uncontended here, they do not replace it.
/// With <c>Payments:Pitfalls:GlobalQueue</c> there is one queue with N consumers instead — the reordering
/// the seed warns about.
/// </remarks>
public sealed class ChargePartitions : IAsyncDisposable
{
    // Pushback bounds, as in the shared library's rejection mapper.
    private static readonly TimeSpan InitialServiceTime = TimeSpan.FromMilliseconds(10);
    private const double Smoothing = 0.2;

    private readonly Channel<PartitionWorkItem>[] _queues;
    private readonly long[] _serviceTimeTicks;
    private readonly Task[] _consumers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly PartitionMetrics _metrics;
    private readonly ChargePartitionHooks? _hooks;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private int _stopRequested;
    private int _disposed;

    public ChargePartitions(
        IOptions<PaymentsOptions> options,
        PartitionMetrics metrics,
        TimeProvider timeProvider,
        ChargePartitionHooks? hooks = null,
        ILogger<ChargePartitions>? logger = null)
    {
        var value = options.Value;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _hooks = hooks;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Count = value.Partitions.Count;
        GlobalQueue = value.Pitfalls.GlobalQueue;

        // Pitfall: one queue as large as all mailboxes together, drained by Count consumers at once.
        QueueCapacity = GlobalQueue ? checked(Count * value.Partitions.MailboxCapacity) : value.Partitions.MailboxCapacity;
        _queues = new Channel<PartitionWorkItem>[GlobalQueue ? 1 : Count];
        _serviceTimeTicks = new long[_queues.Length];
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i] = Channel.CreateBounded<PartitionWorkItem>(new BoundedChannelOptions(QueueCapacity)
            {
                // One consumer per mailbox takes work; at shutdown the stopping thread also reads, to fail what is left.
                SingleReader = false,
                SingleWriter = false,
                FullMode = BoundedChannelFullMode.Wait, // only TryWrite is used: full means reject
            });
            _serviceTimeTicks[i] = InitialServiceTime.Ticks;
        }

        _consumers = new Task[Count];
        // Long-lived loops must not capture the creator's ExecutionContext (its Activity, its logging scope).
        using (ExecutionContext.SuppressFlow())
        {
            for (var consumer = 0; consumer < Count; consumer++)
            {
                var queue = GlobalQueue ? 0 : consumer;
                var index = consumer; // the loop variable is shared by every iteration's closure
                _consumers[consumer] = Task.Run(() => ConsumeAsync(queue, index));
            }
        }

        metrics.Observe(this);
    }

    /// <summary>Number of consumers (and mailboxes, unless the global-queue pitfall is on).</summary>
    public int Count { get; }

    /// <summary>Whether the global-queue pitfall is on.</summary>
    public bool GlobalQueue { get; }

    /// <summary>Number of queues: <see cref="Count"/>, or 1 with the global-queue pitfall.</summary>
    public int QueueCount => _queues.Length;

    /// <summary>Capacity of each queue.</summary>
    public int QueueCapacity { get; }

    /// <summary>
    /// The mailbox of an account: FNV-1a (32-bit) over tenant, a separator and account, modulo
    /// <see cref="Count"/>. Stable across processes and restarts (unlike <c>string.GetHashCode</c>).
    /// </summary>
    public static int PartitionOf(string tenantId, string accountId, int count)
    {
        const uint offset = 2166136261;
        const uint prime = 16777619;
        var hash = offset;
        foreach (var c in tenantId)
        {
            hash = (hash ^ c) * prime;
        }

        hash = (hash ^ '\n') * prime; // "ab"+"c" and "a"+"bc" differ
        foreach (var c in accountId)
        {
            hash = (hash ^ c) * prime;
        }

        return (int)(hash % (uint)count);
    }

    /// <summary>Charges waiting in queue <paramref name="queue"/>.</summary>
    public int Depth(int queue) => _queues[queue].Reader.Count;

    /// <summary>
    /// Queues <paramref name="work"/> on the account's mailbox and returns its result once a consumer ran it.
    /// The work runs under the caller's current execution context.
    /// </summary>
    /// <exception cref="PartitionRejectedException">The mailbox is full, or the process is stopping.</exception>
    /// <exception cref="PartitionWorkAbandonedException"><paramref name="cancellationToken"/> fired first; <see cref="PartitionWorkAbandonedException.WorkStarted"/> says whether the work had started (it never starts once abandoned while queued).</exception>
    public Task<T> RunAsync<T>(string tenantId, string accountId, string idempotencyKey, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var partition = GlobalQueue ? 0 : PartitionOf(tenantId, accountId, Count);
        if (_stopping.IsCancellationRequested)
        {
            throw Rejected(PartitionRejectionReason.ShuttingDown, partition);
        }

        var info = new PartitionWorkInfo(partition, -1, tenantId, accountId, idempotencyKey);
        var item = new PartitionWorkItem<T>(info, _timeProvider.GetTimestamp(), work, ExecutionContext.Capture(), cancellationToken);
        if (!_queues[partition].Writer.TryWrite(item))
        {
            // BeginStop sets _stopping before it completes the mailboxes: a write refused by a completed
            // mailbox is always seen as stopping here, never as full.
            if (_stopping.IsCancellationRequested)
            {
                throw Rejected(PartitionRejectionReason.ShuttingDown, partition);
            }

            _metrics.Full();
            throw Rejected(PartitionRejectionReason.PartitionFull, partition);
        }

        _hooks?.Enqueued?.Invoke(info);
        item.WatchCaller(_hooks?.Abandoned);
        return item.Task;
    }

    /// <summary>
    /// Refuses new charges and fails every queued one with <see cref="PartitionRejectionReason.ShuttingDown"/>
    /// (never started); charges already running go on. Idempotent.
    /// </summary>
    public void BeginStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1)
        {
            return;
        }

        _stopping.Cancel(); // first: RunAsync must see "stopping" before any mailbox refuses a write
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        FailQueued();
    }

    /// <summary>
    /// <see cref="BeginStop"/>, then waits for the running charges to finish (or <paramref name="cancellationToken"/>).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginStop();
        await Task.WhenAll(_consumers).WaitAsync(cancellationToken).ConfigureAwait(false);
        FailQueued();
    }

    /// <summary>Stops the consumers; charges still queued fail with <see cref="PartitionRejectionReason.ShuttingDown"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Dispose();
        }
    }

    private void FailQueued()
    {
        for (var i = 0; i < _queues.Length; i++)
        {
            while (_queues[i].Reader.TryRead(out var item))
            {
                FailShuttingDown(item, i);
            }
        }
    }

    private void FailShuttingDown(PartitionWorkItem item, int queue)
    {
        if (!item.TryAbandonForShutdown())
        {
            return;
        }

        item.Fail(Rejected(PartitionRejectionReason.ShuttingDown, queue));
    }

    private async Task ConsumeAsync(int queue, int consumer)
    {
        var reader = _queues[queue].Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (!_stopping.IsCancellationRequested && reader.TryRead(out var item))
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        FailShuttingDown(item, queue); // read just as stopping began: not started
                        break;
                    }

                    try
                    {
                        await RunOneAsync(queue, consumer, item).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        // Never let one charge kill the mailbox's only consumer: fail that charge, log, go on.
                        _metrics.Failed();
                        PaymentsLog.PartitionWorkFailed(_logger, queue, consumer, ex);
                        item.Fail(ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: BeginStop fails what is left.
        }
        catch (Exception ex)
        {
            // Unreachable by design (each item is guarded above); if it happens, say so loudly.
            PaymentsLog.PartitionConsumerStopped(_logger, queue, consumer, ex);
            throw;
        }
    }

    private async Task RunOneAsync(int queue, int consumer, PartitionWorkItem item)
    {
        _metrics.RecordQueueTime(_timeProvider.GetElapsedTime(item.EnqueuedAt));
        var info = item.Info with { Consumer = consumer };
        if (item.CancellationToken.IsCancellationRequested)
        {
            // The caller gave up (or its deadline passed) while queued: never start its work.
            item.TryAbandon();
            _metrics.Skipped();
            _hooks?.Skipped?.Invoke(info);
            return;
        }

        if (_hooks?.BeforeExecuteAsync is { } gate)
        {
            await gate(info).ConfigureAwait(false);
        }

        if (!item.TryStart())
        {
            _metrics.Skipped();
            _hooks?.Skipped?.Invoke(info);
            return;
        }

        var start = _timeProvider.GetTimestamp();
        await item.ExecuteAsync().ConfigureAwait(false);
        _metrics.Executed();
        RecordServiceTime(queue, _timeProvider.GetElapsedTime(start));
    }

    private void RecordServiceTime(int queue, TimeSpan elapsed)
    {
        // An EWMA; in the global-queue pitfall several consumers race on it and one sample may be lost, which is harmless.
        var previous = Volatile.Read(ref _serviceTimeTicks[queue]);
        Volatile.Write(ref _serviceTimeTicks[queue], (long)((previous * (1 - Smoothing)) + (elapsed.Ticks * Smoothing)));
    }

    private PartitionRejectedException Rejected(PartitionRejectionReason reason, int partition)
    {
        // Time for this mailbox to drain: depth × recent service time ÷ its consumers.
        var consumers = GlobalQueue ? Count : 1;
        var drain = TimeSpan.FromTicks((Depth(partition) + 1) * Volatile.Read(ref _serviceTimeTicks[partition]) / consumers);
        var retryAfter = BulkheadRejectionMapper.BoundRetryAfter(drain);
        var message = reason == PartitionRejectionReason.PartitionFull
            ? $"Charge partition {partition} is full ({QueueCapacity} charges waiting for this account's mailbox); retry after {retryAfter.TotalMilliseconds:0} ms."
            : "Payments is shutting down; the charge was not started: retry it (same idempotency_key) on another instance.";
        return new PartitionRejectedException(reason, partition, message, retryAfter);
    }
}
