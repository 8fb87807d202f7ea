using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Instruments of the charge partitions (meter <c>MeshBulkheads.Payments</c>). The partition tag is the
/// mailbox index, so its cardinality is bounded by <c>Payments:Partitions:Count</c>.
/// </summary>
public sealed class PartitionMetrics
{
    /// <summary>Observable gauge: charges waiting in each mailbox.</summary>
    public const string DepthName = "meshbulkheads.payments.partition.depth";

    /// <summary>Observable gauge: each mailbox's capacity.</summary>
    public const string LimitName = "meshbulkheads.payments.partition.limit";

    /// <summary>Counter: charges by what happened to them (<see cref="ResultTag"/>).</summary>
    public const string RequestsName = "meshbulkheads.payments.partition.requests";

    /// <summary>Histogram, seconds: time a charge waited in its mailbox before a consumer took it.</summary>
    public const string TimeInQueueName = "meshbulkheads.payments.partition.time_in_queue";

    /// <summary>The mailbox index (<c>0</c> … <c>Count − 1</c>).</summary>
    public const string PartitionTag = "meshbulkheads.partition";

    /// <summary><c>executed</c>, <c>partition_full</c> or <c>skipped</c> (caller gone before it started).</summary>
    public const string ResultTag = "meshbulkheads.partition.result";

    private static readonly KeyValuePair<string, object?> s_executed = new(ResultTag, "executed");
    private static readonly KeyValuePair<string, object?> s_full = new(ResultTag, "partition_full");
    private static readonly KeyValuePair<string, object?> s_skipped = new(ResultTag, "skipped");

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _timeInQueue;

    public PartitionMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(PaymentsTelemetry.Name);
        _requests = _meter.CreateCounter<long>(RequestsName, unit: "{request}", description: "Charges through the partitions, by result.");
        _timeInQueue = _meter.CreateHistogram(
            TimeInQueueName,
            unit: "s",
            description: "Time a charge waited in its partition's mailbox.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MeshTelemetry.SecondsBuckets });
    }

    /// <summary>Publishes the depth and limit gauges of <paramref name="partitions"/>.</summary>
    internal void Observe(ChargePartitions partitions)
    {
        var tags = Enumerable.Range(0, partitions.QueueCount)
            .Select(i => new KeyValuePair<string, object?>(PartitionTag, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
        _meter.CreateObservableGauge(
            DepthName,
            () => tags.Select((tag, i) => new Measurement<int>(partitions.Depth(i), tag)),
            unit: "{request}",
            description: "Charges waiting in each partition's mailbox.");
        _meter.CreateObservableGauge(
            LimitName,
            () => tags.Select(tag => new Measurement<int>(partitions.QueueCapacity, tag)),
            unit: "{request}",
            description: "Capacity of each partition's mailbox.");
    }

    internal void Executed() => Add(s_executed);

    internal void Full() => Add(s_full);

    internal void Skipped() => Add(s_skipped);

    internal void RecordQueueTime(TimeSpan wait)
    {
        if (_timeInQueue.Enabled)
        {
            _timeInQueue.Record(wait.TotalSeconds);
        }
    }

    private void Add(KeyValuePair<string, object?> result)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, result);
        }
    }
}
