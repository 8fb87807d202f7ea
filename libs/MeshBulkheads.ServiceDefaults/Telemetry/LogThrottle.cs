using System.Collections.Concurrent;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// Keeps per-call failure logs (stack traces, pool timeouts) from flooding under load: per key the first
/// occurrence in each <see cref="Interval"/> is logged, the others are only counted and reported by the next
/// line logged. Keys must come from a bounded set (route, cluster, pool, error enum), never from caller input.
/// Driven by <see cref="TimeProvider"/>; register one per process (the gateway's backend failures, payments'
/// pool timeouts). The rates themselves are on metrics, which are never throttled.
/// </summary>
public sealed class LogThrottle(TimeProvider timeProvider, TimeSpan interval)
{
    /// <summary>The default interval: 10 seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Uses <see cref="DefaultInterval"/>.</summary>
    public LogThrottle(TimeProvider timeProvider)
        : this(timeProvider, DefaultInterval)
    {
    }

    /// <summary>At most one line per key in this long.</summary>
    public TimeSpan Interval { get; } = interval;

    /// <summary>
    /// True when this failure should be logged; <paramref name="suppressed"/> is then the number of
    /// failures with the same key not logged since the last line. False (and counted) otherwise.
    /// </summary>
    public bool ShouldLog(string key, out long suppressed)
    {
        var entry = _entries.GetOrAdd(key, static _ => new Entry());
        var now = timeProvider.GetTimestamp();
        lock (entry)
        {
            if (entry.Logged && timeProvider.GetElapsedTime(entry.LastLogged, now) < Interval)
            {
                entry.Suppressed++;
                suppressed = 0;
                return false;
            }

            suppressed = entry.Suppressed;
            entry.Suppressed = 0;
            entry.LastLogged = now;
            entry.Logged = true;
            return true;
        }
    }

    private sealed class Entry
    {
        public bool Logged;
        public long LastLogged;
        public long Suppressed;
    }
}
