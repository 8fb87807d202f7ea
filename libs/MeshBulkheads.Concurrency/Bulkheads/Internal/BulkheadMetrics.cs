using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// The bulkhead instruments, created once per meter factory (one instrument per name, labelled by bulkhead).
/// Exported names are listed in the library README.
/// </summary>
internal sealed class BulkheadMetrics
{
    private static readonly IReadOnlyList<double> s_secondsBuckets =
    [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ];

    private readonly ConcurrentDictionary<string, Bulkhead> _bulkheads = new(StringComparer.Ordinal);

    public BulkheadMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(BulkheadConstants.MeterName);
        ActiveRequests = meter.CreateUpDownCounter<long>(
            "meshbulkheads.bulkhead.active_requests", "{request}", "Requests holding a permit.");
        QueuedRequests = meter.CreateUpDownCounter<long>(
            "meshbulkheads.bulkhead.queued_requests", "{request}", "Requests waiting for a permit.");
        TimeInQueue = meter.CreateHistogram(
            "meshbulkheads.bulkhead.request.time_in_queue",
            "s",
            "How long requests waited in the queue, by result.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        Requests = meter.CreateCounter<long>(
            "meshbulkheads.bulkhead.requests", "{request}", "Permit requests, by result.");
        Reloads = meter.CreateCounter<long>(
            "meshbulkheads.bulkhead.config.reloads", "{reload}", "Options reloads applied.");
        ReloadFailures = meter.CreateCounter<long>(
            "meshbulkheads.bulkhead.config.reload_failures", "{reload}", "Options reloads rejected by validation (the last good options stay).");
        meter.CreateObservableGauge(
            "meshbulkheads.bulkhead.permit_limit",
            ObservePermitLimits,
            "{request}",
            "The current permit limit (moves when the adaptive limit is on).");
        meter.CreateObservableGauge(
            "meshbulkheads.bulkhead.queue.oldest_age",
            ObserveOldestAges,
            "s",
            "Age of the oldest queued request; 0 when the queue is empty.");
    }

    public UpDownCounter<long> ActiveRequests { get; }

    public UpDownCounter<long> QueuedRequests { get; }

    public Histogram<double> TimeInQueue { get; }

    public Counter<long> Requests { get; }

    public Counter<long> Reloads { get; }

    public Counter<long> ReloadFailures { get; }

    public void Register(Bulkhead bulkhead) => _bulkheads[bulkhead.Name] = bulkhead;

    public void Unregister(Bulkhead bulkhead) => _bulkheads.TryRemove(new KeyValuePair<string, Bulkhead>(bulkhead.Name, bulkhead));

    public void RecordReload(string name, bool succeeded)
    {
        var counter = succeeded ? Reloads : ReloadFailures;
        if (counter.Enabled)
        {
            counter.Add(1, new KeyValuePair<string, object?>(BulkheadConstants.BulkheadTag, name));
        }
    }

    private IEnumerable<Measurement<int>> ObservePermitLimits()
    {
        foreach (var bulkhead in _bulkheads.Values)
        {
            yield return new Measurement<int>(bulkhead.PermitLimit, new KeyValuePair<string, object?>(BulkheadConstants.BulkheadTag, bulkhead.Name));
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldestAges()
    {
        foreach (var bulkhead in _bulkheads.Values)
        {
            yield return new Measurement<double>(bulkhead.OldestQueueAge.TotalSeconds, new KeyValuePair<string, object?>(BulkheadConstants.BulkheadTag, bulkhead.Name));
        }
    }
}
