namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// Issues calls at fixed intended times, <c>start + i / rate</c>, whatever the responses do (open
/// loop, as wrk2 and k6's constant-arrival-rate). When the loop wakes late it issues every call that
/// is already due, each stamped with its own intended time, so latency counts the generator's lag
/// instead of hiding it (no coordinated omission); the lag itself is reported so a slipped run is
/// marked invalid rather than silently slower.
/// </summary>
internal sealed class OpenLoopSchedule
{
    private readonly TimeProvider _time;
    private readonly double _rate;

    public OpenLoopSchedule(TimeProvider time, double rate, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        _time = time;
        _rate = rate;
        TotalCalls = (long)Math.Ceiling(duration.TotalSeconds * rate - 1e-9);
    }

    /// <summary>Calls whose intended time falls inside the duration.</summary>
    public long TotalCalls { get; }

    /// <summary>Intended time of call <paramref name="sequence"/> as a <see cref="TimeProvider"/> timestamp.</summary>
    public long IntendedTimestamp(long start, long sequence) =>
        start + (long)(sequence * (double)_time.TimestampFrequency / _rate);

    /// <summary>
    /// Runs the schedule from <paramref name="start"/>; <paramref name="issue"/> gets the sequence
    /// number and intended timestamp and must not wait for the call.
    /// </summary>
    public async Task RunAsync(long start, Action<long, long> issue, CancellationToken cancellationToken)
    {
        long next = 0;
        while (next < TotalCalls && !cancellationToken.IsCancellationRequested)
        {
            var now = _time.GetTimestamp();
            var due = IntendedTimestamp(start, next);
            if (now < due)
            {
                var wait = TimeSpan.FromSeconds((due - now) / (double)_time.TimestampFrequency);
                try
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            while (next < TotalCalls && IntendedTimestamp(start, next) <= now)
            {
                issue(next, IntendedTimestamp(start, next));
                next++;
            }
        }
    }
}
