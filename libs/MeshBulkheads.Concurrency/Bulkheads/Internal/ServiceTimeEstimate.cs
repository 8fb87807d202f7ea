namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// The smoothed time a permit is held (an exponentially weighted mean of the work that ran), from which a
/// bulkhead estimates the queue wait. Not thread-safe: the bulkhead calls it under its lock.
/// </summary>
internal sealed class ServiceTimeEstimate
{
    private const double Smoothing = 0.2;

    private double _seconds;

    /// <summary>Gets whether any work has completed yet (before that every estimate is zero).</summary>
    public bool HasSamples => _seconds > 0;

    /// <summary>Adds the hold time of one lease whose work ran.</summary>
    public void Add(double serviceSeconds) =>
        _seconds = _seconds == 0
            ? serviceSeconds
            : ((1 - Smoothing) * _seconds) + (Smoothing * serviceSeconds);

    /// <summary>The expected wait at queue <paramref name="position"/>: position × mean service time ÷ permits.</summary>
    public TimeSpan EstimateWait(int position, int permits) =>
        _seconds <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(position * _seconds / Math.Max(1, permits));
}
