using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// Counters and histograms of one stream, whole run and current interval. Calls complete on many
/// threads; one lock per stream is far below the cost of a gRPC call at these rates.
/// </summary>
internal sealed class StreamStats(StreamSpec spec)
{
    private readonly Lock _lock = new();
    private readonly LatencyHistogram _ok = new();
    private readonly LatencyHistogram _rejected = new();
    private readonly LatencyHistogram _lag = new();
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly LatencyHistogram _intervalOk = new();
    private readonly Dictionary<string, long> _intervalOutcomes = new(StringComparer.Ordinal);
    private long _offered;
    private long _completed;
    private long _okCount;
    private long _rejectedCount;
    private long _deadlineCount;
    private long _errorCount;
    private long _attempts;
    private long _pushbackWaits;
    private long _intervalOffered;
    private long _intervalOkCount;
    private long _unauthenticated;
    private long _rejectedWithPushback;

    public StreamSpec Spec { get; } = spec;

    public long Offered { get { lock (_lock) { return _offered; } } }

    public long OkCount { get { lock (_lock) { return _okCount; } } }

    public long Unauthenticated { get { lock (_lock) { return _unauthenticated; } } }

    /// <summary>A call was issued; <paramref name="lag"/> is how late it left against its intended time.</summary>
    public void RecordSent(TimeSpan lag)
    {
        lock (_lock)
        {
            _offered++;
            _intervalOffered++;
            _lag.Record(lag < TimeSpan.Zero ? TimeSpan.Zero : lag);
        }
    }

    public void RecordAttempt(bool waitedPushback)
    {
        lock (_lock)
        {
            _attempts++;
            if (waitedPushback)
            {
                _pushbackWaits++;
            }
        }
    }

    /// <summary>A call finished; <paramref name="latency"/> counts from its intended send time.</summary>
    public void RecordCompleted(Outcome outcome, TimeSpan latency)
    {
        lock (_lock)
        {
            _completed++;
            var key = outcome.Key;
            _outcomes[key] = _outcomes.GetValueOrDefault(key) + 1;
            _intervalOutcomes[key] = _intervalOutcomes.GetValueOrDefault(key) + 1;
            switch (outcome.Kind)
            {
                case OutcomeKind.Ok:
                    _okCount++;
                    _intervalOkCount++;
                    _ok.Record(latency);
                    _intervalOk.Record(latency);
                    break;
                case OutcomeKind.Rejected:
                    _rejectedCount++;
                    _rejected.Record(latency);
                    if (outcome.Pushback is not null)
                    {
                        _rejectedWithPushback++;
                    }

                    break;
                case OutcomeKind.DeadlineExceeded:
                    _deadlineCount++;
                    break;
                default:
                    _errorCount++;
                    if (outcome.Status == Grpc.Core.StatusCode.Unauthenticated)
                    {
                        _unauthenticated++;
                    }

                    break;
            }
        }
    }

    /// <summary>Takes and resets the current interval (called once per second by the run's ticker).</summary>
    public IntervalSample TakeInterval(TimeSpan at, TimeSpan length)
    {
        lock (_lock)
        {
            var sample = new IntervalSample(
                at.TotalSeconds,
                Math.Max(length.TotalSeconds, 1e-9),
                _intervalOffered,
                _intervalOkCount,
                _intervalOk.Count == 0 ? null : _intervalOk.Percentile(50).TotalMilliseconds,
                _intervalOk.Count == 0 ? null : _intervalOk.Percentile(90).TotalMilliseconds,
                _intervalOk.Count == 0 ? null : _intervalOk.Percentile(99).TotalMilliseconds,
                _intervalOutcomes.Where(o => o.Key != "OK").ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal),
                _ok.Count == 0 ? null : _ok.Percentile(99).TotalMilliseconds);
            _intervalOffered = 0;
            _intervalOkCount = 0;
            _intervalOk.Reset();
            _intervalOutcomes.Clear();
            return sample;
        }
    }

    public StreamResult ToResult(TimeSpan duration)
    {
        lock (_lock)
        {
            var seconds = Math.Max(duration.TotalSeconds, 1e-9);
            return new StreamResult
            {
                Name = Spec.Name,
                Method = Spec.Method.ToString(),
                Mode = Spec.IsClosedLoop ? $"closed-loop concurrency={Spec.Concurrency}" : "open-loop",
                TargetRate = Spec.IsClosedLoop ? null : Spec.Rate,
                Offered = _offered,
                Completed = _completed,
                Ok = _okCount,
                Rejected = _rejectedCount,
                DeadlineExceeded = _deadlineCount,
                Errors = _errorCount,
                Attempts = _attempts,
                PushbackWaits = _pushbackWaits,
                RejectedWithPushback = _rejectedWithPushback,
                Outcomes = new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal),
                OfferedRate = _offered / seconds,
                Goodput = _okCount / seconds,
                LatencyMs = LatencySummary.From(_ok),
                RejectedLatencyMs = LatencySummary.From(_rejected),
                SchedulingLagMs = LatencySummary.From(_lag),
            };
        }
    }
}

/// <summary>One interval (about a second) of one stream: counts, and latency of the calls that completed OK in it.</summary>
internal sealed record IntervalSample(
    double AtSeconds,
    double LengthSeconds,
    long OfferedCount,
    long OkCount,
    double? P50Ms,
    double? P90Ms,
    double? P99Ms,
    Dictionary<string, long> NotOk,
    double? RunningP99Ms)
{
    public double Offered => OfferedCount / LengthSeconds;

    public double Ok => OkCount / LengthSeconds;
}
