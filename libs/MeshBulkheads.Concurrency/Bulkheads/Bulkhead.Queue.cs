using System.Diagnostics;
using MeshBulkheads.Concurrency.Bulkheads.Internal;
using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>The wait queue: granting in order (or adaptive LIFO), the shedding timer, cancellation and removal.</summary>
public sealed partial class Bulkhead
{
    /// <summary>The newest sheddable waiter, the one a critical request displaces from a full queue; null when none.</summary>
    private LinkedListNode<Waiter>? NewestSheddable()
    {
        for (var node = _queue.Last; node is not null; node = node.Previous)
        {
            if (node.Value.Criticality == BulkheadCriticality.Sheddable)
            {
                return node;
            }
        }

        return null;
    }

    private void GrantWaiters(long now)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "Grants run under the lock.");
        while (_active < _permitLimit && _queue.First is { } first)
        {
            var congested = _options.QueueProcessingOrder == BulkheadQueueOrder.AdaptiveLifo
                && now - first.Value.EnqueuedAt >= _congestionTicks;
            var waiter = congested ? _queue.Last!.Value : first.Value;
            RemoveWaiter(waiter);
            var queueTime = _timeProvider.GetElapsedTime(waiter.EnqueuedAt, now);

            // Re-check at grant: a caller whose deadline has passed never starts.
            if (DeadlineGuard.HasPassed(waiter.DeadlineAt, now))
            {
                Complete(waiter, RejectNew(BulkheadRejectionReason.DeadlineExceeded, queueTime));
                continue;
            }

            // Counted (and its queue time recorded) when the caller receives it: see AwaitGrantAsync.
            var lease = Grant(now, queueTime, waiter.Tenant, waiter.LongLived, countAcquired: false);
            var completed = waiter.TrySetResult(lease);
            Debug.Assert(completed, "A waiter is completed only once, when it leaves the queue.");
        }
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var now = _timeProvider.GetTimestamp();
            _timerDueAt = long.MaxValue;
            var node = _queue.First;
            while (node is not null)
            {
                var next = node.Next;
                var waiter = node.Value;
                if (now - waiter.EnqueuedAt >= _maxQueueTicks)
                {
                    RemoveWaiter(waiter);
                    Complete(waiter, RejectNew(BulkheadRejectionReason.QueueTimeout, _timeProvider.GetElapsedTime(waiter.EnqueuedAt, now)));
                }
                else if (DeadlineGuard.HasPassed(waiter.DeadlineAt, now))
                {
                    RemoveWaiter(waiter);
                    Complete(waiter, RejectNew(BulkheadRejectionReason.DeadlineExceeded, _timeProvider.GetElapsedTime(waiter.EnqueuedAt, now)));
                }

                node = next;
            }

            RescheduleFromQueue(now);
        }
    }

    /// <summary>When a waiter enqueued at <paramref name="enqueuedAt"/> is shed; never with the unbounded-queue pitfall.</summary>
    private long ShedAt(long enqueuedAt) =>
        _maxQueueTicks == long.MaxValue ? long.MaxValue : enqueuedAt + _maxQueueTicks;

    private void RescheduleFromQueue(long now)
    {
        var due = long.MaxValue;
        for (var node = _queue.First; node is not null; node = node.Next)
        {
            due = Math.Min(due, Math.Min(ShedAt(node.Value.EnqueuedAt), node.Value.DeadlineAt));
        }

        ScheduleTimer(due, now);
    }

    private void ScheduleTimer(long dueAt, long now)
    {
        if (dueAt == long.MaxValue || dueAt >= _timerDueAt)
        {
            return;
        }

        _timerDueAt = dueAt;
        var due = dueAt > now ? RoundUpToMilliseconds(_timeProvider.GetElapsedTime(now, dueAt)) : TimeSpan.Zero;
        _timer.Change(dueAt > now && due < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : due, Timeout.InfiniteTimeSpan);
    }

    internal void CancelWaiter(Waiter waiter)
    {
        lock (_lock)
        {
            // Already granted, shed or removed: the grant/shed won the race.
            if (waiter.Node.List is null)
            {
                return;
            }

            RemoveWaiter(waiter);
            var now = _timeProvider.GetTimestamp();
            var queueTime = _timeProvider.GetElapsedTime(waiter.EnqueuedAt, now);

            // The caller's deadline token may fire a timer tick before the clock reaches the deadline: that is the deadline.
            if (DeadlineGuard.ExplainsCancellation(waiter.DeadlineAt, now, _timeProvider.TimestampFrequency))
            {
                Complete(waiter, RejectNew(BulkheadRejectionReason.DeadlineExceeded, queueTime));
                return;
            }

            Complete(waiter, queueTime == TimeSpan.Zero ? BulkheadLease.CanceledLease : new BulkheadLease(BulkheadRejectionReason.Canceled, queueTime, null));
        }
    }

    private void RemoveWaiter(Waiter waiter)
    {
        Debug.Assert(waiter.Node.List == _queue, "Removing a waiter that is not queued.");
        _queue.Remove(waiter.Node);

        // Unregister (not Dispose): Dispose would wait for a running callback that is blocked on our lock.
        waiter.Registration.Unregister();
        if (waiter.Tenant is { } tenant)
        {
            _tenants.Remove(tenant);
        }

        if (_metrics?.QueuedRequests.Enabled == true)
        {
            _metrics.QueuedRequests.Add(-1, _nameTag);
        }
    }

    private void Complete(Waiter waiter, BulkheadLease rejected)
    {
        Reject(rejected);
        RecordQueueTime(rejected.QueueTime, rejected.Reason);
        var completed = waiter.TrySetResult(rejected);
        Debug.Assert(completed, "A waiter is completed only once.");
    }

    /// <summary>
    /// System timers count whole milliseconds and truncate: a 0.4 ms due time would fire at once, find nothing due,
    /// and re-arm for the remaining 0.x ms again and again. Round up (a due time of zero stays zero: it is already due).
    /// </summary>
    internal static TimeSpan RoundUpToMilliseconds(TimeSpan due)
    {
        var remainder = due.Ticks % TimeSpan.TicksPerMillisecond;
        return remainder == 0 ? due : due + TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - remainder);
    }

    private static ITimer CreateTimerWithoutContext(TimeProvider timeProvider, Bulkhead state)
    {
        // A bulkhead may be created lazily inside a request: a timer that captured that request's ExecutionContext
        // would run every later callback under its Activity and AsyncLocals (and keep them alive).
        if (ExecutionContext.IsFlowSuppressed())
        {
            return timeProvider.CreateTimer(static s => ((Bulkhead)s!).OnTimer(), state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return timeProvider.CreateTimer(static s => ((Bulkhead)s!).OnTimer(), state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
