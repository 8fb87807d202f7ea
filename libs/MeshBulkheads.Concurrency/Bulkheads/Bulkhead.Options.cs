using System.Diagnostics;
using MeshBulkheads.Concurrency.Bulkheads.Internal;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Options in force: a reload applies new limits to waiting and future requests at once.</summary>
public sealed partial class Bulkhead
{
    /// <summary>Replaces the options (a reload); new limits apply to waiting and future requests at once.</summary>
    /// <param name="options">Options that already passed validation.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void UpdateOptions(BulkheadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = BulkheadOptionsValidation.Check(Name, options);
        if (failures is not null)
        {
            throw new ArgumentException(failures, nameof(options));
        }

        lock (_lock)
        {
            _options = options.Clone();
            ApplyOptions(_options);
            var now = _timeProvider.GetTimestamp();
            GrantWaiters(now);
            _timerDueAt = long.MaxValue;
            RescheduleFromQueue(now);
        }
    }

    private void ApplyOptions(BulkheadOptions options)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread || _permitLimit == 0, "Options change under the lock.");
        // The unbounded-queue pitfall: no sojourn shedding either (only a waiter's own deadline removes it).
        _maxQueueTicks = options.Pitfalls.UnboundedQueue ? long.MaxValue : ToTimestampTicks(options.MaxQueueTime);
        _congestionTicks = ToTimestampTicks(options.CongestionThreshold);
        if (options.AdaptiveLimit.Enabled)
        {
            // A new PermitLimit is a new starting point; other adaptive changes keep what was learned.
            if (_adaptive is null || options.PermitLimit != _adaptiveStart)
            {
                _adaptiveStart = options.PermitLimit;
                _adaptive = new VegasLimit(options.AdaptiveLimit, options.PermitLimit);
            }
            else
            {
                _adaptive.Update(options.AdaptiveLimit);
            }

            Volatile.Write(ref _permitLimit, _adaptive.Limit);
        }
        else
        {
            _adaptive = null;
            Volatile.Write(ref _permitLimit, options.PermitLimit);
        }

        _tenants.Resize(options);
    }
}
