using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Payments.Database;

/// <summary>
/// Connection-pool instruments: how long callers wait for a connection (the seed's first diagnosis
/// row: a waiting-bound service's latency is mostly this), how many are in use, and the pool size.
/// </summary>
public sealed class DbPoolMetrics
{
    /// <summary>Histogram, seconds: time from asking for a connection to getting one (or giving up).</summary>
    public const string WaitTimeName = "meshbulkheads.db.pool.wait_time";

    /// <summary>
    /// Histogram, seconds: how long a call holds its connection (its queries and transaction), pool
    /// wait excluded. Beside <see cref="WaitTimeName"/> it separates "the database is slow" from
    /// "we are queueing for the database".
    /// </summary>
    public const string QueryDurationName = "meshbulkheads.db.query.duration";

    /// <summary>UpDownCounter: connections currently leased.</summary>
    public const string InUseName = "meshbulkheads.db.pool.in_use";

    /// <summary>Observable gauge: the pool's size.</summary>
    public const string LimitName = "meshbulkheads.db.pool.limit";

    private readonly Histogram<double> _waitTime;
    private readonly Histogram<double> _queryDuration;
    private readonly UpDownCounter<long> _inUse;
    private readonly ConcurrentDictionary<(string Pool, string DbSystem), int> _limits = new();

    public DbPoolMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PaymentsTelemetry.Name);
        _waitTime = meter.CreateHistogram(
            WaitTimeName,
            unit: "s",
            description: "Time spent waiting for a pooled database connection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });
        _queryDuration = meter.CreateHistogram(
            QueryDurationName,
            unit: "s",
            description: "Time a call holds its database connection (queries and transaction), pool wait excluded.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });
        _inUse = meter.CreateUpDownCounter<long>(InUseName, unit: "{connection}", description: "Database connections currently in use.");
        meter.CreateObservableGauge(LimitName, ObserveLimits, unit: "{connection}", description: "Size of the database connection pool.");
    }

    internal void RegisterLimit(string pool, string dbSystem, int limit) => _limits[(pool, dbSystem)] = limit;

    internal void RecordWait(TimeSpan wait, string pool, string dbSystem)
    {
        if (_waitTime.Enabled)
        {
            _waitTime.Record(wait.TotalSeconds, Tags(pool, dbSystem));
        }
    }

    internal void RecordQuery(TimeSpan duration, string pool, string dbSystem)
    {
        if (_queryDuration.Enabled)
        {
            _queryDuration.Record(duration.TotalSeconds, Tags(pool, dbSystem));
        }
    }

    internal void AddInUse(long delta, string pool, string dbSystem)
    {
        if (_inUse.Enabled)
        {
            _inUse.Add(delta, Tags(pool, dbSystem));
        }
    }

    private IEnumerable<Measurement<int>> ObserveLimits()
    {
        foreach (var ((pool, dbSystem), limit) in _limits)
        {
            yield return new Measurement<int>(limit, Tags(pool, dbSystem));
        }
    }

    private static KeyValuePair<string, object?>[] Tags(string pool, string dbSystem) =>
    [
        new(PaymentsTelemetry.PoolTag, pool),
        new(PaymentsTelemetry.DbSystemTag, dbSystem),
    ];
}
