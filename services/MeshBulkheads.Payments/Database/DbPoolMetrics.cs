using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Payments.Database;

/// <summary>
/// Connection-pool instruments in the bulkhead's vocabulary (<see cref="MeshTelemetryTags"/>): how
/// long callers wait for a connection (the seed's first diagnosis row: a waiting-bound service's
/// latency is mostly this), how many hold one, and the pool size. A connection is the pool's permit.
/// </summary>
public sealed class DbPoolMetrics
{
    /// <summary>Histogram, seconds: time from asking for a connection to getting one (or giving up).</summary>
    public const string TimeInQueueName = "meshbulkheads.db.pool.request.time_in_queue";

    /// <summary>
    /// Histogram, seconds: how long a call holds its connection (its queries and transaction), pool
    /// wait excluded. Beside <see cref="TimeInQueueName"/> it separates "the database is slow" from
    /// "we are queueing for the database".
    /// </summary>
    public const string QueryDurationName = "meshbulkheads.db.query.duration";

    /// <summary>UpDownCounter: calls holding a leased connection.</summary>
    public const string ActiveRequestsName = "meshbulkheads.db.pool.active_requests";

    /// <summary>Observable gauge: the pool's size (connections it hands out at once).</summary>
    public const string PermitLimitName = "meshbulkheads.db.pool.permit_limit";

    private readonly Histogram<double> _timeInQueue;
    private readonly Histogram<double> _queryDuration;
    private readonly UpDownCounter<long> _activeRequests;
    private readonly ConcurrentDictionary<(string Pool, string DbSystem), int> _limits = new();

    public DbPoolMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PaymentsTelemetry.Name);
        _timeInQueue = meter.CreateSecondsHistogram(TimeInQueueName, "Time spent waiting for a pooled database connection.");
        _queryDuration = meter.CreateSecondsHistogram(QueryDurationName, "Time a call holds its database connection (queries and transaction), pool wait excluded.");
        _activeRequests = meter.CreateRequestUpDownCounter(ActiveRequestsName, "Calls holding a pooled database connection.");
        meter.CreateRequestGauge(PermitLimitName, ObserveLimits, "Size of the database connection pool: the most calls that hold a connection at once.");
    }

    internal void RegisterLimit(string pool, string dbSystem, int limit) => _limits[(pool, dbSystem)] = limit;

    internal void RecordWait(TimeSpan wait, string pool, string dbSystem) => _timeInQueue.RecordSeconds(wait, Tags(pool, dbSystem));

    internal void RecordQuery(TimeSpan duration, string pool, string dbSystem) => _queryDuration.RecordSeconds(duration, Tags(pool, dbSystem));

    internal void AddActive(long delta, string pool, string dbSystem) => _activeRequests.Add(delta, Tags(pool, dbSystem));

    private IEnumerable<Measurement<int>> ObserveLimits()
    {
        foreach (var ((pool, dbSystem), limit) in _limits)
        {
            yield return new Measurement<int>(limit, Tags(pool, dbSystem));
        }
    }

    private static TagList Tags(string pool, string dbSystem) => new()
    {
        { MeshTelemetryTags.Pool, pool },
        { MeshTelemetryTags.DbSystem, dbSystem },
    };
}
