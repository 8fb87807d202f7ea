using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Telemetry;

/// <summary>
/// .NET's equivalent of event-loop lag: every <see cref="Interval"/> a tiny work item is queued to
/// the shared thread pool and the time until it runs is recorded. When request threads are blocked
/// (CPU work inline, sync-over-async) the queue backs up and the lag rises long before CPU graphs
/// or the database look guilty.
/// </summary>
public sealed class ThreadPoolLagProbe : BackgroundService
{
    /// <summary>The histogram's name; exported as <c>meshbulkheads_threadpool_lag_seconds</c>.</summary>
    public const string InstrumentName = "meshbulkheads.threadpool.lag";

    private readonly TimeProvider _timeProvider;
    private readonly Histogram<double> _lag;
    private readonly Action<Action> _queue;

    public ThreadPoolLagProbe(IMeterFactory meterFactory, TimeProvider timeProvider)
        : this(meterFactory, timeProvider, static work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false))
    {
    }

    /// <summary>For tests: <paramref name="queue"/> stands in for the thread pool.</summary>
    internal ThreadPoolLagProbe(IMeterFactory meterFactory, TimeProvider timeProvider, Action<Action> queue)
    {
        _timeProvider = timeProvider;
        _queue = queue;
        _lag = meterFactory.Create(MeshTelemetry.Prefix + ".Runtime").CreateSecondsHistogram(
            InstrumentName, "How late a work item queued to the shared thread pool started running (sampled every 100 ms).");
    }

    /// <summary>How often a probe is queued.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Queues one probe; it records its own lag when it runs.</summary>
    public void Probe()
    {
        var queuedAt = _timeProvider.GetTimestamp();
        _queue(() => _lag.RecordSeconds(_timeProvider.GetElapsedTime(queuedAt)));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A dedicated thread schedules the probes, not a timer: timer callbacks themselves run on the
        // thread pool, so a starved pool would delay the schedule too and hide exactly the lag this
        // measures (the probe would be queued late and then run "on time").
        var thread = new Thread(() => Run(stoppingToken))
        {
            IsBackground = true,
            Name = "threadpool-lag-probe",
        };
        thread.Start();
        return Task.CompletedTask;
    }

    private void Run(CancellationToken stoppingToken)
    {
        while (!stoppingToken.WaitHandle.WaitOne(Interval))
        {
            Probe();
        }
    }
}
