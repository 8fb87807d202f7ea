using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Render;

/// <summary>
/// Meter <c>MeshBulkheads.Render</c>: the render workers in the bulkhead's vocabulary
/// (<c>meshbulkheads.render.workers.active_requests</c>, <c>.queued_requests</c>, <c>.permit_limit</c>,
/// <c>.requests</c> by <see cref="MeshTelemetryTags.Result"/>, one of <see cref="MeshTelemetryResults"/>) and the job duration. Admission itself
/// (queue time, rejections) is measured by the shared bulkhead <c>render</c> (meter
/// <c>MeshBulkheads.Concurrency</c>). <c>RenderRows</c> streams add the write wait and the rows written
/// (<c>meshbulkheads.render.stream.*</c>). Exported names are in the README and docs/metrics.md.
/// </summary>
public sealed class RenderMetrics
{
    public const string MeterName = MeshTelemetry.Prefix + ".Render";

    /// <summary>Observable up-down counter: workers (or inline request threads) executing a job.</summary>
    public const string ActiveRequestsName = "meshbulkheads.render.workers.active_requests";

    /// <summary>Observable up-down counter: jobs waiting for a worker (bulkhead queue plus hand-off).</summary>
    public const string QueuedRequestsName = "meshbulkheads.render.workers.queued_requests";

    /// <summary>Observable up-down counter: dedicated worker threads (= the render bulkhead's permits).</summary>
    public const string PermitLimitName = "meshbulkheads.render.workers.permit_limit";

    /// <summary>Counter: admitted jobs by <see cref="MeshTelemetryTags.Result"/>.</summary>
    public const string RequestsName = "meshbulkheads.render.workers.requests";

    /// <summary>Histogram, seconds: execution time of a job (queue wait excluded), by <see cref="MeshTelemetryTags.Result"/>.</summary>
    public const string DurationName = "meshbulkheads.render.duration";

    /// <summary>
    /// Histogram, seconds: how long each <c>RenderRows</c> row write waited before the row was accepted for sending —
    /// the producer slowed by its consumer (HTTP/2 flow control, then Kestrel's response buffer). Near zero while the
    /// consumer keeps up.
    /// </summary>
    public const string StreamWriteWaitName = "meshbulkheads.render.stream.write_wait";

    /// <summary>Counter: rows written by <c>RenderRows</c> streams.</summary>
    public const string StreamRowsName = "meshbulkheads.render.stream.rows";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _writeWait;
    private readonly Counter<long> _rows;
    private int _busy;

    public RenderMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _duration = _meter.CreateSecondsHistogram(DurationName, "Time a render job spent executing on its thread (queue wait excluded).");
        _requests = _meter.CreateRequestCounter(
            RequestsName,
            "Admitted render jobs by result: completed, canceled (the caller left), deadline (its deadline passed), failed.");
        _meter.CreateObservableRequestUpDownCounter(
            ActiveRequestsName, () => Volatile.Read(ref _busy), "Render jobs executing on a worker (or inline request thread).");
        _writeWait = _meter.CreateHistogram<double>(
            StreamWriteWaitName,
            unit: "s",
            description: "Time each RenderRows row write waited for the consumer (HTTP/2 flow control, response buffer): the producer slowed by backpressure.");
        _rows = _meter.CreateCounter<long>(StreamRowsName, unit: "{row}", description: "Rows written by RenderRows streams.");
    }

    /// <summary>Threads executing a render right now.</summary>
    public int BusyWorkers => Volatile.Read(ref _busy);

    /// <summary>Publishes the queued jobs and the worker count as observable instruments.</summary>
    public void ObservePool(Func<int> queueDepth, int workerLimit)
    {
        _meter.CreateObservableRequestUpDownCounter(
            QueuedRequestsName, queueDepth, "Render jobs waiting for a worker (bulkhead queue plus hand-off).");
        _meter.CreateObservableRequestUpDownCounter(
            PermitLimitName, () => workerLimit, "Dedicated render worker threads (= the render bulkhead's permits).");
    }

    public void WorkerStarted() => Interlocked.Increment(ref _busy);

    public void WorkerFinished() => Interlocked.Decrement(ref _busy);

    public void JobFinished(string result, TimeSpan duration)
    {
        _duration.RecordSeconds(duration, new KeyValuePair<string, object?>(MeshTelemetryTags.Result, result));
        JobCounted(result);
    }

    /// <summary>One row of a stream was accepted for sending after waiting <paramref name="waited"/>.</summary>
    public void RowWritten(TimeSpan waited)
    {
        _writeWait.Record(waited.TotalSeconds);
        _rows.Add(1);
    }

    public void JobCounted(string result) => _requests.Add(1, new KeyValuePair<string, object?>(MeshTelemetryTags.Result, result));
}
