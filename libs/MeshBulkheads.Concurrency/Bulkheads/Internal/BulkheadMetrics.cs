using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// The bulkhead instruments, created once per meter factory (one instrument per name, labelled by bulkhead).
/// Exported names are listed in the library README; attribute keys are <see cref="MeshTelemetryTags"/>.
/// </summary>
internal sealed class BulkheadMetrics
{
    private readonly ConcurrentDictionary<string, Bulkhead> _bulkheads = new(StringComparer.Ordinal);

    public BulkheadMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(BulkheadConstants.MeterName);
        ActiveRequests = meter.CreateRequestUpDownCounter("meshbulkheads.bulkhead.active_requests", "Requests holding a permit.");
        QueuedRequests = meter.CreateRequestUpDownCounter("meshbulkheads.bulkhead.queued_requests", "Requests waiting for a permit.");
        TimeInQueue = meter.CreateSecondsHistogram("meshbulkheads.bulkhead.request.time_in_queue", "How long requests waited in the queue, by result.");
        Requests = meter.CreateRequestCounter("meshbulkheads.bulkhead.requests", "Permit requests, by result.");
        Reloads = meter.CreateCounter<long>(
            "meshbulkheads.bulkhead.config.reloads", "{reload}", "Options reloads applied.");
        ReloadFailures = meter.CreateCounter<long>(
            "meshbulkheads.bulkhead.config.reload_failures", "{reload}", "Options reloads rejected by validation (the last good options stay).");
        meter.CreateRequestGauge("meshbulkheads.bulkhead.permit_limit", () => Observe(b => b.PermitLimit), "The current permit limit (moves when the adaptive limit is on).");
        meter.CreateRequestGauge("meshbulkheads.bulkhead.queue_limit", () => Observe(b => b.QueueLimit), "The most requests the queue holds (2147483647 while the unbounded-queue pitfall is on).");
        meter.CreateObservableGauge(
            "meshbulkheads.bulkhead.tenants",
            () => Observe(b => b.TenantCount),
            "{tenant}",
            "Tenants holding a permit or a queue slot: the per-tenant share table's size (at most permits in use plus queued).");
        meter.CreateObservableGauge(
            "meshbulkheads.bulkhead.queue.oldest_age",
            ObserveOldestAges,
            MeshInstruments.Seconds,
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
            counter.Add(1, new KeyValuePair<string, object?>(MeshTelemetryTags.Bulkhead, name));
        }
    }

    private IEnumerable<Measurement<int>> Observe(Func<Bulkhead, int> read)
    {
        foreach (var bulkhead in _bulkheads.Values)
        {
            yield return new Measurement<int>(read(bulkhead), new KeyValuePair<string, object?>(MeshTelemetryTags.Bulkhead, bulkhead.Name));
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldestAges()
    {
        foreach (var bulkhead in _bulkheads.Values)
        {
            yield return new Measurement<double>(bulkhead.OldestQueueAge.TotalSeconds, new KeyValuePair<string, object?>(MeshTelemetryTags.Bulkhead, bulkhead.Name));
        }
    }
}
