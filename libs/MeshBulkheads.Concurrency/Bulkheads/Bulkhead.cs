using System.Diagnostics;
using System.Threading.RateLimiting;
using MeshBulkheads.Concurrency.Bulkheads.Internal;
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
/// </remarks>
public sealed class Bulkhead : RateLimiter
{
    private const double ServiceTimeSmoothing = 0.2;
    private const int MaxPooledLeases = 1024;

    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Stack<BulkheadLease> _leasePool = new();
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _timer;
    private readonly BulkheadMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _nameTag;

    private BulkheadOptions _options;
    private VegasLimit? _adaptive;
    // Always counted, even while TenantMaxShare is 1: a share switched on by a reload must see the permits
    // tenants already hold, or a tenant could hold its old permits plus a whole new share.
    private readonly Dictionary<string, int> _tenantCounts = new(StringComparer.Ordinal);
    private int _tenantBound = int.MaxValue;
    private int _permitLimit;
    private int _adaptiveStart;
    private int _active;
    private long _maxQueueTicks;
    private long _congestionTicks;
    private long _timerDueAt = long.MaxValue;
    private double _serviceTimeSeconds;
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
        _timer = timeProvider.CreateTimer(static state => ((Bulkhead)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        ApplyOptions(_options);
        metrics?.Register(this);
    }

    /// <summary>Gets the bulkhead name.</summary>
    public string Name { get; }

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
    /// <remarks>Completes synchronously and allocates nothing when a permit is free and nobody waits.</remarks>
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
            if (deadlineAt <= now)
            {
                // No work ever starts for a caller whose deadline has passed.
                return new ValueTask<BulkheadLease>(Reject(BulkheadLease.DeadlineExceededLease));
            }

            var tenant = request.Tenant;
            if (tenant is not null && _tenantCounts.GetValueOrDefault(tenant) >= _tenantBound)
            {
                return new ValueTask<BulkheadLease>(Reject(BulkheadRejectionReason.TenantShare));
            }

            if (_active < _permitLimit && _queue.Count == 0)
            {
                return new ValueTask<BulkheadLease>(Grant(now, TimeSpan.Zero, tenant));
            }

            // The unbounded-queue pitfall skips both admission checks: every request queues, however long the wait.
            var unbounded = _options.Pitfalls.UnboundedQueue;
            if (!unbounded && _queue.Count >= _options.QueueLimit && !(request.Criticality == BulkheadCriticality.Critical && TryEvictSheddable(now)))
            {
                return new ValueTask<BulkheadLease>(Reject(OverloadReason()));
            }

            if (!unbounded && deadlineAt != long.MaxValue && deadlineAt - now < EstimateWaitTicks(_queue.Count + 1))
            {
                return new ValueTask<BulkheadLease>(Reject(RejectNew(BulkheadRejectionReason.DeadlineUnmeetable, TimeSpan.Zero)));
            }

            waiter = new Waiter(this, now, deadlineAt, tenant, request.Criticality);
            _queue.AddLast(waiter.Node);
            if (tenant is not null)
            {
                _tenantCounts[tenant] = _tenantCounts.GetValueOrDefault(tenant) + 1;
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

        return new ValueTask<BulkheadLease>(waiter.Task);
    }

    /// <summary>Returns the expected queue wait for a request arriving now (position × mean service time ÷ permits).</summary>
    /// <returns>The estimate; zero before any request has completed.</returns>
    public TimeSpan EstimateQueueWait()
    {
        lock (_lock)
        {
            return TicksToTimeSpan(EstimateWaitTicks(_queue.Count + 1));
        }
    }

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

            return available ? Grant(_timeProvider.GetTimestamp(), TimeSpan.Zero, null) : Reject(OverloadReason());
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

    /// <summary>Called once per acquired lease when its holder disposes it.</summary>
    internal void Release(BulkheadLease lease)
    {
        lock (_lock)
        {
            Debug.Assert(_active > 0, "Released more permits than were granted.");
            _active--;
            var now = _timeProvider.GetTimestamp();
            var serviceSeconds = _timeProvider.GetElapsedTime(lease.AcquiredTimestamp, now).TotalSeconds;
            _serviceTimeSeconds = _serviceTimeSeconds == 0
                ? serviceSeconds
                : ((1 - ServiceTimeSmoothing) * _serviceTimeSeconds) + (ServiceTimeSmoothing * serviceSeconds);

            if (lease.CountedTenant is { } tenant)
            {
                DecrementTenant(tenant);
            }

            if (_adaptive is not null)
            {
                _adaptive.OnSample(serviceSeconds, _active + 1);
                Volatile.Write(ref _permitLimit, _adaptive.Limit);
            }

            if (_leasePool.Count < MaxPooledLeases)
            {
                _leasePool.Push(lease);
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

    /// <summary>The suggested retry delay: how long the current queue needs to drain, bounded to 50 ms–30 s.</summary>
    internal TimeSpan SuggestRetryAfter()
    {
        var drain = _serviceTimeSeconds > 0
            ? TicksToTimeSpan(EstimateWaitTicks(_queue.Count + 1))
            : _options.MaxQueueTime;
        return Rejections.BulkheadRejectionMapper.BoundRetryAfter(drain);
    }

    private static void ValidatePermitCount(int permitCount)
    {
        if (permitCount is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, "A bulkhead grants one permit per request (0 checks availability).");
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

        // The bound follows every resize (a share of the capacity now); permits held above a smaller new
        // bound are never revoked, they only keep the tenant out until it is back under it.
        _tenantBound = options.TenantMaxShare < 1.0
            ? Math.Max(1, (int)Math.Ceiling(options.TenantMaxShare * (options.PermitLimit + options.QueueLimit)))
            : int.MaxValue;
    }

    private BulkheadLease Grant(long now, TimeSpan queueTime, string? tenant)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "Grant runs under the lock.");
        Debug.Assert(_active < _permitLimit, "Granted beyond the permit limit.");
        _active++;
        if (tenant is not null)
        {
            // A queued request's slot was released by RemoveWaiter; it now counts as a permit.
            _tenantCounts[tenant] = _tenantCounts.GetValueOrDefault(tenant) + 1;
        }

        var lease = _leasePool.Count > 0 ? _leasePool.Pop() : new BulkheadLease(this);
        lease.Reset(now, queueTime, tenant);
        _successfulLeases++;
        if (_metrics is { } metrics)
        {
            if (metrics.ActiveRequests.Enabled)
            {
                metrics.ActiveRequests.Add(1, _nameTag);
            }

            if (metrics.Requests.Enabled)
            {
                metrics.Requests.Add(1, _nameTag, new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.Acquired));
            }
        }

        return lease;
    }

    private BulkheadLease Reject(BulkheadRejectionReason reason) =>
        Reject(RejectNew(reason, TimeSpan.Zero));

    private BulkheadLease RejectNew(BulkheadRejectionReason reason, TimeSpan queueTime)
    {
        TimeSpan? retryAfter = reason is BulkheadRejectionReason.QueueFull or BulkheadRejectionReason.QueueTimeout
            or BulkheadRejectionReason.AdaptiveLimit or BulkheadRejectionReason.TenantShare
            ? SuggestRetryAfter()
            : null;
        return new BulkheadLease(reason, queueTime, retryAfter);
    }

    private BulkheadLease Reject(BulkheadLease lease)
    {
        Interlocked.Increment(ref _failedLeases);
        if (_metrics?.Requests.Enabled == true)
        {
            _metrics.Requests.Add(1, _nameTag, new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.For(lease.Reason)));
        }

        BulkheadLog.RequestRejected(_logger, Name, lease.Reason);
        return lease;
    }

    private BulkheadRejectionReason OverloadReason() =>
        _adaptive is not null && _permitLimit < _options.PermitLimit ? BulkheadRejectionReason.AdaptiveLimit : BulkheadRejectionReason.QueueFull;

    /// <summary>A critical request displaces the newest sheddable waiter from a full queue.</summary>
    private bool TryEvictSheddable(long now)
    {
        for (var node = _queue.Last; node is not null; node = node.Previous)
        {
            if (node.Value.Criticality == BulkheadCriticality.Sheddable)
            {
                var waiter = node.Value;
                RemoveWaiter(waiter);
                Complete(waiter, RejectNew(BulkheadRejectionReason.QueueFull, _timeProvider.GetElapsedTime(waiter.EnqueuedAt, now)));
                return _queue.Count < _options.QueueLimit;
            }
        }

        return false;
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
            if (waiter.DeadlineAt <= now)
            {
                Complete(waiter, RejectNew(BulkheadRejectionReason.DeadlineExceeded, queueTime));
                continue;
            }

            var lease = Grant(now, queueTime, waiter.Tenant);
            RecordQueueTime(queueTime, BulkheadRejectionReason.None);
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
                else if (waiter.DeadlineAt <= now)
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
        _timer.Change(_timeProvider.GetElapsedTime(now, Math.Max(now, dueAt)), Timeout.InfiniteTimeSpan);
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
            var queueTime = _timeProvider.GetElapsedTime(waiter.EnqueuedAt);
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
            DecrementTenant(tenant);
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

    private void RecordQueueTime(TimeSpan queueTime, BulkheadRejectionReason reason)
    {
        if (_metrics?.TimeInQueue.Enabled == true)
        {
            _metrics.TimeInQueue.Record(
                queueTime.TotalSeconds,
                _nameTag,
                new KeyValuePair<string, object?>(BulkheadConstants.ResultTag, BulkheadConstants.Results.For(reason)));
        }
    }

    private void DecrementTenant(string tenant)
    {
        if (_tenantCounts.TryGetValue(tenant, out var count))
        {
            if (count <= 1)
            {
                _tenantCounts.Remove(tenant);
            }
            else
            {
                _tenantCounts[tenant] = count - 1;
            }
        }
    }

    private long EstimateWaitTicks(int position) =>
        _serviceTimeSeconds <= 0 ? 0 : ToTimestampTicks(TimeSpan.FromSeconds(position * _serviceTimeSeconds / Math.Max(1, _permitLimit)));

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

    /// <summary>The lease for a zero-permit probe; holds nothing.</summary>
    private sealed class SuccessfulZeroLease : RateLimitLease
    {
        public static readonly SuccessfulZeroLease Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
