using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Render;

/// <summary>
/// Meter <c>MeshBulkheads.Render</c>: queue depth, busy and configured workers, job duration and
/// the outcome of admitted jobs. Admission itself (queue, rejections) is measured by the shared
/// bulkhead <c>render</c> (meter <c>MeshBulkheads.Concurrency</c>). Exported names are in the README.
/// </summary>
public sealed class RenderMetrics
{
    public const string MeterName = "MeshBulkheads.Render";
    public const string ResultCompleted = "completed";
    public const string ResultCanceled = "canceled";
    public const string ResultFailed = "failed";
    public const string ResultTagName = "meshbulkheads.render.result";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _jobs;
    private int _busy;

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
            description: "Admitted render jobs by result: completed, canceled, failed.");
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.workers.busy", () => Volatile.Read(ref _busy), unit: "{worker}", description: "Render workers (or inline request threads) executing a job.");
    }

    /// <summary>Threads executing a render right now.</summary>
    public int BusyWorkers => Volatile.Read(ref _busy);

    /// <summary>Publishes the queue depth and the worker count as observable instruments.</summary>
    public void ObservePool(Func<int> queueDepth, int workerLimit)
    {
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.queue.depth", () => queueDepth(), unit: "{job}", description: "Render jobs waiting for a worker (bulkhead queue plus hand-off).");
        _meter.CreateObservableUpDownCounter(
            "meshbulkheads.render.workers.limit", () => workerLimit, unit: "{worker}", description: "Dedicated render worker threads (= the render bulkhead's permits).");
    }

    public void WorkerStarted() => Interlocked.Increment(ref _busy);

    public void WorkerFinished() => Interlocked.Decrement(ref _busy);

    public void JobFinished(string result, TimeSpan duration)
    {
        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(ResultTagName, result));
        }

        JobCounted(result);
    }

    public void JobCounted(string result)
    {
        if (_jobs.Enabled)
        {
            _jobs.Add(1, new KeyValuePair<string, object?>(ResultTagName, result));
        }
    }
}
