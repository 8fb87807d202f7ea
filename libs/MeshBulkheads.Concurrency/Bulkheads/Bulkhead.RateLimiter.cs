using System.Threading.RateLimiting;
using MeshBulkheads.Concurrency.Bulkheads.Internal;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>The <see cref="RateLimiter"/> adapter (one permit per request) and disposal.</summary>
public sealed partial class Bulkhead
{
    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                return _active == 0 && _queue.Count == 0 ? _timeProvider.GetElapsedTime(_idleSince) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = Math.Max(0, _permitLimit - _active),
                CurrentQueuedCount = _queue.Count,
                TotalFailedLeases = Interlocked.Read(ref _failedLeases),
                TotalSuccessfulLeases = Interlocked.Read(ref _successfulLeases),
            };
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ValidatePermitCount(permitCount);
        lock (_lock)
        {
            if (_disposed)
            {
                return Reject(BulkheadLease.DisposedLease);
            }

            var available = _active < _permitLimit && _queue.Count == 0;
            if (permitCount == 0)
            {
                return available ? SuccessfulZeroLease.Instance : Reject(OverloadReason());
            }

            return available ? Grant(_timeProvider.GetTimestamp(), TimeSpan.Zero, null, longLived: false, countAcquired: true) : Reject(OverloadReason());
        }
    }

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ValidatePermitCount(permitCount);
        cancellationToken.ThrowIfCancellationRequested();
        if (permitCount == 0)
        {
            return new ValueTask<RateLimitLease>(AttemptAcquireCore(0));
        }

        var pending = AcquireAsync(BulkheadRequest.Default, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var lease = pending.Result;
            return lease.Reason == BulkheadRejectionReason.Canceled
                ? ValueTask.FromCanceled<RateLimitLease>(cancellationToken)
                : new ValueTask<RateLimitLease>(lease);
        }

        return AwaitAsRateLimitLease(pending, cancellationToken);

        static async ValueTask<RateLimitLease> AwaitAsRateLimitLease(ValueTask<BulkheadLease> pending, CancellationToken cancellationToken)
        {
            var lease = await pending.ConfigureAwait(false);

            // The RateLimiter contract: a cancelled wait throws rather than returning a failed lease.
            if (lease.Reason == BulkheadRejectionReason.Canceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            return lease;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            base.Dispose(disposing);
            return;
        }

        lock (_lock)
        {
            if (_disposed)
            {
                base.Dispose(disposing);
                return;
            }

            _disposed = true;
            while (_queue.First is { } node)
            {
                RemoveWaiter(node.Value);
                Complete(node.Value, BulkheadLease.DisposedLease);
            }
        }

        _timer.Dispose();
        _metrics?.Unregister(this);
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    protected override async ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private static void ValidatePermitCount(int permitCount)
    {
        if (permitCount is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, "A bulkhead grants one permit per request (0 checks availability).");
        }
    }
}
