using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// The process-wide cap on concurrent downstream calls, shared by every in-flight report: however
/// many reports arrive, at most <see cref="ReportingOptions.MaxConcurrentDownstreamCalls"/> payments
/// calls run at once. Waiters queue in arrival order and leave when their report is cancelled.
/// </summary>
/// <remarks>
/// Service-local on purpose: it can be swapped for the shared <c>MeshBulkheads.Concurrency</c>
/// Bulkhead (bounded queue, queue-time shedding, deadline-aware admission) once that exists.
/// </remarks>
public sealed class DownstreamCallLimiter : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private int _waiting;

    public DownstreamCallLimiter(IOptions<ReportingOptions> options, ReportingMetrics metrics)
    {
        Limit = options.Value.MaxConcurrentDownstreamCalls;
        _slots = new SemaphoreSlim(Limit, Limit);
        if (!options.Value.UncappedFanOut)
        {
            metrics.ObserveLimit(Limit);
        }
    }

    public int Limit { get; }

    /// <summary>Callers waiting for a slot right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Slots in use right now.</summary>
    public int InUse => Limit - _slots.CurrentCount;

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> AcquireAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>A held slot.</summary>
    public readonly struct Slot(SemaphoreSlim? slots) : IDisposable
    {
        public void Dispose() => slots?.Release();
    }
}
