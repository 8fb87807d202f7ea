using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Render;

/// <summary>
/// Meter <c>MeshBulkheads.Render</c>: queue depth, busy and configured workers, job duration and
/// job outcomes. Names as exported to Prometheus are listed in the README.
/// </summary>
public sealed class RenderMetrics
{
    public const string MeterName = "MeshBulkheads.Render";
    public const string ResultCompleted = "completed";
    public const string ResultCanceled = "canceled";
    public const string ResultFailed = "failed";
    public const string ResultQueueFull = "queue_full";
    public const string ResultTagName = "meshbulkheads.render.result";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _jobs;

    public RenderMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _duration = _meter.CreateHistogram(
            "meshbulkheads.render.duration",
            unit: "s",
            description: "Time a render job spent executing on its thread (queue wait excluded).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });
        _jobs = _meter.CreateCounter<long>(
            "meshbulkheads.render.jobs",
            unit: "{job}",
            description: "Render jobs by result: completed, canceled, failed, queue_full.");
    }

    /// <summary>Publishes the pool's live state as observable instruments.</summary>
    public void ObservePool(Func<int> queueDepth, Func<int> busyWorkers, int workerLimit)
    {
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.queue.depth", () => queueDepth(), unit: "{job}", description: "Render jobs waiting for a worker.");
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.workers.busy", () => busyWorkers(), unit: "{worker}", description: "Render workers executing a job.");
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.workers.limit", () => workerLimit, unit: "{worker}", description: "Dedicated render worker threads.");
    }

    public void JobFinished(string result, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>(ResultTagName, result);
        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds, tag);
        }

        JobCounted(result);
    }

    public void JobCounted(string result)
    {
        if (_jobs.Enabled)
        {
            _jobs.Add(1, new TagList { { ResultTagName, result } });
        }
    }
}
