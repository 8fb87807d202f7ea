using System.Diagnostics;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// TCP-Vegas-style concurrency limit (after Netflix concurrency-limits <c>VegasLimit</c>): compares each
/// sample's latency with the no-load baseline to estimate how many requests are queued inside the server,
/// and grows or shrinks the limit to keep that estimate between alpha and beta.
/// </summary>
/// <remarks>
/// <para>
/// The baseline is measured, not remembered (Envoy adaptive concurrency's minRTT window): at the first sample and
/// then every <see cref="AdaptiveLimitOptions.BaselineInterval"/> the limit drops to a small probe concurrency
/// (3, or the limit if lower; within MinLimit..MaxLimit) until <see cref="AdaptiveLimitOptions.BaselineSamples"/> requests granted during
/// the probe have completed; the baseline is their median, and the limit returns to where it was. A lowest-ever
/// baseline let one fast failure or abandoned lease pin it for good (every later sample then looks queued and the
/// limit collapses); the median of a fresh low-load window ignores a single outlier and follows a service that
/// really got slower or faster.
/// </para>
/// <para>Not thread-safe: the bulkhead calls it under its lock.</para>
/// </remarks>
internal sealed class VegasLimit
{
    private const int ProbeConcurrency = 3;

    private readonly List<double> _probeSamples = [];
    private AdaptiveLimitOptions _options;
    private double _limit;
    private double _rttNoLoad;
    private bool _probing;
    private long _probeStartedAt;
    private double _limitBeforeProbe;
    private long _nextProbeAt = long.MinValue;

    public VegasLimit(AdaptiveLimitOptions options, int initialLimit)
    {
        _options = options;
        _limit = Math.Clamp(initialLimit, options.MinLimit, options.MaxLimit);
    }

    /// <summary>The limit in force (the probe concurrency while the baseline is being measured).</summary>
    public int Limit => _probing ? ProbeLimit : (int)_limit;

    /// <summary>The current no-load latency baseline in seconds; 0 until the first probe has finished.</summary>
    public double BaselineSeconds => _rttNoLoad;

    /// <summary>The probe never raises the limit: min(3, the limit before the probe), within MinLimit..MaxLimit.</summary>
    private int ProbeLimit => Math.Clamp(Math.Min(ProbeConcurrency, (int)_limitBeforeProbe), _options.MinLimit, _options.MaxLimit);

    public void Update(AdaptiveLimitOptions options)
    {
        _options = options;
        _limit = Math.Clamp(_limit, options.MinLimit, options.MaxLimit);
        _limitBeforeProbe = Math.Clamp(_limitBeforeProbe, options.MinLimit, options.MaxLimit);
    }

    /// <summary>Feeds one completed request that did work.</summary>
    /// <param name="rttSeconds">How long it held its permit.</param>
    /// <param name="inFlight">Permits held when it completed (itself included).</param>
    /// <param name="acquiredAt">When it was granted (timestamp).</param>
    /// <param name="now">Now (timestamp).</param>
    /// <param name="timestampFrequency">Timestamp ticks per second.</param>
    public void OnSample(double rttSeconds, int inFlight, long acquiredAt, long now, long timestampFrequency)
    {
        if (rttSeconds <= 0)
        {
            return;
        }

        if (_probing)
        {
            // Only requests admitted under the probe concurrency measure the no-load latency.
            if (acquiredAt >= _probeStartedAt)
            {
                _probeSamples.Add(rttSeconds);
                if (_probeSamples.Count >= _options.BaselineSamples)
                {
                    FinishProbe(now, timestampFrequency);
                }
            }

            return;
        }

        if (now >= _nextProbeAt)
        {
            StartProbe(now);
            return;
        }

        // Application-limited: the limit was not the constraint, so the sample cannot justify growing it.
        if (inFlight * 2 < _limit)
        {
            return;
        }

        var queueSize = Math.Ceiling(_limit * (1 - (_rttNoLoad / rttSeconds)));
        var log = Math.Max(1, Math.Log10(_limit));
        var alpha = 3 * log;
        var beta = 6 * log;

        double target;
        if (queueSize <= log)
        {
            target = _limit + beta;
        }
        else if (queueSize < alpha)
        {
            target = _limit + log;
        }
        else if (queueSize > beta)
        {
            target = _limit - log;
        }
        else
        {
            return;
        }

        target = Math.Clamp(target, _options.MinLimit, _options.MaxLimit);
        _limit = ((1 - _options.Smoothing) * _limit) + (_options.Smoothing * target);
        Debug.Assert(_limit >= _options.MinLimit - 1e-9 && _limit <= _options.MaxLimit + 1e-9, "Limit out of bounds.");
    }

    private void StartProbe(long now)
    {
        _probing = true;
        _probeStartedAt = now;
        _limitBeforeProbe = _limit;
        _probeSamples.Clear();
    }

    private void FinishProbe(long now, long timestampFrequency)
    {
        _probeSamples.Sort();
        var middle = _probeSamples.Count / 2;
        _rttNoLoad = _probeSamples.Count % 2 == 1 ? _probeSamples[middle] : (_probeSamples[middle - 1] + _probeSamples[middle]) / 2;
        _probeSamples.Clear();
        _probing = false;
        _limit = Math.Clamp(_limitBeforeProbe, _options.MinLimit, _options.MaxLimit);
        _nextProbeAt = now + (long)(_options.BaselineInterval.TotalSeconds * timestampFrequency);
    }
}
