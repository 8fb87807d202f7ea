using System.Diagnostics;
using System.Threading.RateLimiting;
using MeshBulkheads.Concurrency.Bulkheads.Internal;
using MeshBulkheads.Concurrency.Deadlines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// A bounded number of concurrent permits plus a bounded wait queue, with queue-delay shedding,
/// deadline-aware admission, optional adaptive LIFO, tenant shares and an optional adaptive limit.
/// </summary>
/// <remarks>
/// <para>
/// It is a <see cref="RateLimiter"/> (one permit per request), so it works wherever a rate limiter does;
/// <see cref="AcquireAsync(BulkheadRequest, CancellationToken)"/> is the richer path that takes the caller's
/// deadline, tenant and criticality and returns a <see cref="BulkheadLease"/> with a rejection reason.
/// </para>
/// <para>
/// Rules: a request never jumps the queue; a waiter is shed after <see cref="BulkheadOptions.MaxQueueTime"/>
/// (one <see cref="ITimer"/> per bulkhead, not per waiter); a request whose remaining deadline is below the
/// expected wait (position × mean service time ÷ permits) is rejected at once; a waiter whose deadline passes
/// is removed; and when a permit is granted the deadline is checked again, so no work starts for a caller whose
/// deadline has passed. All time comes from the <see cref="TimeProvider"/>.
/// </para>
/// <para>
/// The type is split by concern: this file holds the public API, admission, grant and release;
/// <c>Bulkhead.Queue.cs</c> the wait queue, its timer and shedding; <c>Bulkhead.Outcomes.cs</c> rejected leases
/// and the counting of every result; <c>Bulkhead.Options.cs</c> reloads; <c>Bulkhead.RateLimiter.cs</c> the
/// <see cref="RateLimiter"/> adapter and disposal. Tenant shares and the service-time estimate are helpers in
/// <c>Internal/</c>.
/// </para>
/// </remarks>
public sealed partial class Bulkhead : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _timer;
    private readonly BulkheadMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _nameTag;
    private readonly TenantShares _tenants = new();
    private readonly ServiceTimeEstimate _serviceTime = new();

    private BulkheadOptions _options;
    private VegasLimit? _adaptive;
    private int _permitLimit;
    private int _adaptiveStart;
    private int _active;
    private int _activeLongLived;
    private long _maxQueueTicks;
    private long _congestionTicks;
    private long _timerDueAt = long.MaxValue;
    private long _idleSince;
    private long _successfulLeases;
    private long _failedLeases;
    private bool _disposed;

    /// <summary>Creates a stand-alone bulkhead (no metrics); use <c>services.AddBulkheads()</c> for named, monitored ones.</summary>
    /// <param name="name">The bulkhead name (metric label, log scope).</param>
    /// <param name="options">The limits; validated here, and copied.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the setting).</exception>
    public Bulkhead(string name, BulkheadOptions options, TimeProvider? timeProvider = null)
        : this(name, options, timeProvider ?? TimeProvider.System, metrics: null, logger: null)
    {
    }

    internal Bulkhead(string name, BulkheadOptions options, TimeProvider timeProvider, BulkheadMetrics? metrics, ILogger? logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        var failures = BulkheadOptionsValidation.Check(name, options);
        if (failures is not null)
        {
            throw new ArgumentException(failures, nameof(options));
        }

        Name = name;
        _nameTag = new KeyValuePair<string, object?>(BulkheadConstants.BulkheadTag, name);
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _options = options.Clone();
        _idleSince = timeProvider.GetTimestamp();
        _timer = CreateTimerWithoutContext(timeProvider, this);
        ApplyOptions(_options);
        metrics?.Register(this);
    }

    /// <summary>Gets the bulkhead name.</summary>
    public string Name { get; }

    /// <summary>Gets the adaptive limit's current no-load latency baseline; null when the adaptive limit is off or has not measured it yet.</summary>
    public TimeSpan? AdaptiveBaseline
    {
        get
        {
            lock (_lock)
            {
                return _adaptive is { BaselineSeconds: > 0 } adaptive ? TimeSpan.FromSeconds(adaptive.BaselineSeconds) : null;
            }
        }
    }

    /// <summary>Gets a copy of the options in force (the last good snapshot).</summary>
    public BulkheadOptions Options
    {
        get
        {
            lock (_lock)
            {
                return _options.Clone();
            }
        }
    }

    /// <summary>Gets the current permit limit (equals <see cref="BulkheadOptions.PermitLimit"/> unless the adaptive limit is on).</summary>
    public int PermitLimit => Volatile.Read(ref _permitLimit);

    /// <summary>Gets the number of permits held.</summary>
    public int ActiveCount => Volatile.Read(ref _active);

    /// <summary>
    /// Gets the most requests the queue holds: <see cref="BulkheadOptions.QueueLimit"/>, or <see cref="int.MaxValue"/>
    /// while the <see cref="BulkheadPitfallOptions.UnboundedQueue"/> pitfall is on (no bound at all).
    /// </summary>
    public int QueueLimit
    {
        get
        {
            lock (_lock)
            {
                return _options.Pitfalls.UnboundedQueue ? int.MaxValue : _options.QueueLimit;
            }
        }
    }

    /// <summary>
    /// Gets how many tenants hold a permit or a queue slot: the size of the per-tenant share table, which holds an
    /// entry only while its tenant holds something, so it never exceeds <see cref="ActiveCount"/> + <see cref="QueuedCount"/>.
    /// </summary>
    public int TenantCount
    {
        get
        {
            lock (_lock)
            {
                return _tenants.Count;
            }
        }
    }

    /// <summary>Gets the number of waiting requests.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Gets how long the oldest waiter has waited; zero when the queue is empty.</summary>
    public TimeSpan OldestQueueAge
    {
        get
        {
            lock (_lock)
            {
                return _queue.First is { } first ? _timeProvider.GetElapsedTime(first.Value.EnqueuedAt) : TimeSpan.Zero;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> under a permit, releasing it when the work ends, or throws
    /// <see cref="BulkheadRejectedException"/> when the bulkhead refuses (the work never starts).
    /// </summary>
    /// <typeparam name="T">The work's result.</typeparam>
    /// <param name="request">Who is asking: deadline, tenant, criticality.</param>
    /// <param name="work">The work; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the wait for a permit and is passed to the work.</param>
    /// <returns>The work's result.</returns>
    /// <exception cref="BulkheadRejectedException">The bulkhead refused; see its <see cref="BulkheadRejectedException.Rejection"/>.</exception>
    public async ValueTask<T> ExecuteAsync<T>(BulkheadRequest request, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var lease = await AcquireAsync(request, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw new BulkheadRejectedException(new BulkheadRejectedArguments(Name, lease.Reason, lease.QueueTime, lease.RetryAfter));
        }

        using (lease)
        {
            return await work(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks for a permit on behalf of a caller with a deadline, tenant and criticality.</summary>
    /// <param name="request">Who is asking.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled waiter gets <see cref="BulkheadRejectionReason.Canceled"/>.</param>
    /// <returns>An acquired lease (dispose it when the work is done) or a rejected lease with its reason.</returns>
    /// <remarks>Completes synchronously when a permit is free and nobody waits; allocates only the lease (one object per grant, so releasing is idempotent per grant).</remarks>
    public ValueTask<BulkheadLease> AcquireAsync(BulkheadRequest request, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new ValueTask<BulkheadLease>(Reject(BulkheadLease.CanceledLease));
        }

        Waiter waiter;
        lock (_lock)
        {
            if (_disposed)
            {
                return new ValueTask<BulkheadLease>(Reject(BulkheadLease.DisposedLease));
            }

            var now = _timeProvider.GetTimestamp();
            var deadlineAt = ToDeadlineTimestamp(request.Deadline, now);
            if (DeadlineGuard.HasPassed(deadlineAt, now))
            {
                // No work ever starts for a caller whose deadline has passed.
                return new ValueTask<BulkheadLease>(Reject(BulkheadLease.DeadlineExceededLease));
            }

            var tenant = request.Tenant;
            if (tenant is not null && _tenants.IsAtShare(tenant))
            {
                return new ValueTask<BulkheadLease>(Reject(BulkheadRejectionReason.TenantShare));
            }

            if (_active < _permitLimit && _queue.Count == 0)
            {
                return new ValueTask<BulkheadLease>(Grant(now, TimeSpan.Zero, tenant, request.LongLived, countAcquired: true));
            }

            // The unbounded-queue pitfall skips both admission checks: every request queues, however long the wait.
            var unbounded = _options.Pitfalls.UnboundedQueue;
            LinkedListNode<Waiter>? evict = null;
            if (!unbounded && _queue.Count >= _options.QueueLimit)
            {
                // A critical request may displace a sheddable waiter, but only if that makes room (a shrunk queue
                // may be over its limit) ...
                evict = request.Criticality == BulkheadCriticality.Critical && _queue.Count - 1 < _options.QueueLimit ? NewestSheddable() : null;
                if (evict is null)
                {
                    return new ValueTask<BulkheadLease>(Reject(OverloadReason()));
                }
            }

            // ... and only if the request will be admitted: its own deadline is checked first, at the position it
            // would take (the evicted waiter's slot is freed, so it is the queue's current length).
            var position = evict is null ? _queue.Count + 1 : _queue.Count;
            if (!unbounded && deadlineAt != long.MaxValue && deadlineAt - now < EstimateWaitTicks(position))
            {
                return new ValueTask<BulkheadLease>(Reject(RejectNew(BulkheadRejectionReason.DeadlineUnmeetable, TimeSpan.Zero)));
            }

            if (evict is not null)
            {
                var evicted = evict.Value;
                RemoveWaiter(evicted);
                Complete(evicted, RejectNew(BulkheadRejectionReason.QueueFull, _timeProvider.GetElapsedTime(evicted.EnqueuedAt, now)));
            }

            waiter = new Waiter(this, now, deadlineAt, tenant, request.Criticality, request.LongLived);
            _queue.AddLast(waiter.Node);
            if (tenant is not null)
            {
                _tenants.Add(tenant);
            }

            if (_metrics?.QueuedRequests.Enabled == true)
            {
                _metrics.QueuedRequests.Add(1, _nameTag);
            }

            ScheduleTimer(Math.Min(ShedAt(now), deadlineAt), now);

            if (cancellationToken.CanBeCanceled)
            {
                // Lock is re-entrant: a token cancelled right now runs the callback inline, which is fine.
                waiter.Registration = cancellationToken.UnsafeRegister(static state => ((Waiter)state!).Owner.CancelWaiter((Waiter)state), waiter);
            }
        }

        return AwaitGrantAsync(waiter);
    }

    /// <summary>
    /// Returns the expected queue wait for a request arriving now (position × mean service time ÷ the permits not held
    /// by <see cref="BulkheadRequest.LongLived"/> calls, at least one).
    /// </summary>
    /// <returns>The estimate; zero before any request has completed.</returns>
    public TimeSpan EstimateQueueWait()
    {
        lock (_lock)
        {
            return TicksToTimeSpan(EstimateWaitTicks(_queue.Count + 1));
        }
    }

    /// <summary>Called exactly once per acquired lease when its holder disposes (sample) or abandons (no sample) it.</summary>
    internal void Release(BulkheadLease lease, bool sample)
    {
        lock (_lock)
        {
            Debug.Assert(_active > 0, "Released more permits than were granted.");
            _active--;
            if (lease.IsLongLived)
            {
                _activeLongLived--;
                // A stream's hold time is how long its consumer kept it open, not how long the work takes.
                sample = false;
            }

            var now = _timeProvider.GetTimestamp();
            var serviceSeconds = _timeProvider.GetElapsedTime(lease.AcquiredTimestamp, now).TotalSeconds;
            if (sample)
            {
                // Only work that ran is a sample: an abandoned lease's time says nothing about service time.
                _serviceTime.Add(serviceSeconds);
            }

            if (lease.CountedTenant is { } tenant)
            {
                _tenants.Remove(tenant);
            }

            if (_adaptive is not null && sample)
            {
                _adaptive.OnSample(serviceSeconds, _active + 1, lease.AcquiredTimestamp, now, _timeProvider.TimestampFrequency);
                Volatile.Write(ref _permitLimit, _adaptive.Limit);
            }

            if (_metrics?.ActiveRequests.Enabled == true)
            {
                _metrics.ActiveRequests.Add(-1, _nameTag);
            }

            if (_active == 0 && _queue.Count == 0)
            {
                _idleSince = now;
            }

            GrantWaiters(now);
        }
    }

    private BulkheadLease Grant(long now, TimeSpan queueTime, string? tenant, bool longLived, bool countAcquired)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "Grant runs under the lock.");
        Debug.Assert(_active < _permitLimit, "Granted beyond the permit limit.");
        _active++;
        if (longLived)
        {
            _activeLongLived++;
        }

        if (tenant is not null)
        {
            // A queued request's slot was released by RemoveWaiter; it now counts as a permit.
            _tenants.Add(tenant);
        }

        // One object per grant (never pooled): releasing it is idempotent per grant.
        var lease = new BulkheadLease(this, now, queueTime, tenant, longLived);
        if (_metrics?.ActiveRequests.Enabled == true)
        {
            _metrics.ActiveRequests.Add(1, _nameTag);
        }

        if (countAcquired)
        {
            CountAcquired();
        }

        return lease;
    }

    /// <summary>
    /// A waiter's result as its caller sees it. The waiter's continuation runs asynchronously, possibly after its
    /// deadline: then the permit is given back without a sample and the caller gets <see cref="BulkheadRejectionReason.DeadlineExceeded"/>,
    /// counted as <c>deadline</c> (not <c>acquired</c>), so no work starts for a caller whose deadline has passed.
    /// </summary>
    private async ValueTask<BulkheadLease> AwaitGrantAsync(Waiter waiter)
    {
        var lease = await waiter.Task.ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            return lease;
        }

        if (DeadlineGuard.HasPassed(waiter.DeadlineAt, _timeProvider.GetTimestamp()))
        {
            lease.Abandon();
            var rejected = Reject(RejectNew(BulkheadRejectionReason.DeadlineExceeded, lease.QueueTime));
            RecordQueueTime(rejected.QueueTime, rejected.Reason);
            return rejected;
        }

        CountAcquired();
        RecordQueueTime(lease.QueueTime, BulkheadRejectionReason.None);
        return lease;
    }

    // Permits held by long-lived calls do not turn over at the service rate: only the others drain the queue.
    private long EstimateWaitTicks(int position) =>
        ToTimestampTicks(_serviceTime.EstimateWait(position, _permitLimit - _activeLongLived));

    private long ToDeadlineTimestamp(DateTimeOffset? deadline, long now)
    {
        if (deadline is not { } value)
        {
            return long.MaxValue;
        }

        var remaining = value - _timeProvider.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return now;
        }

        // Beyond a day there is no practical deadline; this also avoids overflow.
        return remaining > TimeSpan.FromDays(1) ? long.MaxValue : now + ToTimestampTicks(remaining);
    }

    private long ToTimestampTicks(TimeSpan value) =>
        (long)(value.Ticks * ((double)_timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond));

    private TimeSpan TicksToTimeSpan(long timestampTicks) => _timeProvider.GetElapsedTime(0, timestampTicks);
}
