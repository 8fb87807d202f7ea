using System.Diagnostics;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// TCP-Vegas-style concurrency limit (after Netflix concurrency-limits <c>VegasLimit</c>): compares each
/// sample's latency with the lowest latency seen (the no-load baseline) to estimate how many requests are
/// queued inside the server, and grows or shrinks the limit to keep that estimate between alpha and beta.
/// </summary>
/// <remarks>Not thread-safe: the bulkhead calls it under its lock.</remarks>
internal sealed class VegasLimit
{
    private AdaptiveLimitOptions _options;
    private double _limit;
    private double _rttNoLoad;

    public VegasLimit(AdaptiveLimitOptions options, int initialLimit)
    {
        _options = options;
        _limit = Math.Clamp(initialLimit, options.MinLimit, options.MaxLimit);
    }

    public int Limit => (int)_limit;

    public void Update(AdaptiveLimitOptions options)
    {
        _options = options;
        _limit = Math.Clamp(_limit, options.MinLimit, options.MaxLimit);
    }

    /// <summary>Feeds one completed request: its latency in seconds and the in-flight count when it completed.</summary>
    public void OnSample(double rttSeconds, int inFlight)
    {
        if (rttSeconds <= 0)
        {
            return;
        }

        if (_rttNoLoad == 0 || rttSeconds < _rttNoLoad)
        {
            // A new baseline says nothing about queueing yet.
            _rttNoLoad = rttSeconds;
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
}
