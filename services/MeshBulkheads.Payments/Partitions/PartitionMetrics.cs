using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Instruments of the charge partitions (meter <c>MeshBulkheads.Payments</c>), in the bulkhead's
/// vocabulary (<see cref="MeshTelemetryTags"/>). The partition tag is the mailbox index, so its
/// cardinality is bounded by <c>Payments:Partitions:Count</c>.
/// </summary>
/// <remarks>
/// A mailbox's capacity is a queue's (one consumer drains it), so it is <c>queue_limit</c>, the
/// counterpart of <c>Bulkheads:&lt;name&gt;:QueueLimit</c>, not <c>permit_limit</c>.
/// </remarks>
public sealed class PartitionMetrics
{
    /// <summary>Observable gauge: charges waiting in each mailbox (tag <see cref="MeshTelemetryTags.Partition"/>).</summary>
    public const string QueuedRequestsName = "meshbulkheads.payments.partition.queued_requests";

    /// <summary>Observable gauge: each mailbox's capacity (tag <see cref="MeshTelemetryTags.Partition"/>).</summary>
    public const string QueueLimitName = "meshbulkheads.payments.partition.queue_limit";

    /// <summary>
    /// Counter: charges by what happened to them (<see cref="MeshTelemetryTags.Result"/> = <c>executed</c>,
    /// <c>partition_full</c>, <c>skipped</c> (caller gone before it started) or <c>failed</c> (the consumer
    /// failed the charge with an unexpected error; logged)).
    /// </summary>
    public const string RequestsName = "meshbulkheads.payments.partition.requests";

    /// <summary>Histogram, seconds: time a charge waited in its mailbox before a consumer took it.</summary>
    public const string TimeInQueueName = "meshbulkheads.payments.partition.request.time_in_queue";

    private static readonly KeyValuePair<string, object?> s_executed = new(MeshTelemetryTags.Result, "executed");
    private static readonly KeyValuePair<string, object?> s_full = new(MeshTelemetryTags.Result, "partition_full");
    private static readonly KeyValuePair<string, object?> s_skipped = new(MeshTelemetryTags.Result, "skipped");
    private static readonly KeyValuePair<string, object?> s_failed = new(MeshTelemetryTags.Result, MeshTelemetryResults.Failed);

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _timeInQueue;

    public PartitionMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(PaymentsTelemetry.Name);
        _requests = _meter.CreateRequestCounter(RequestsName, "Charges through the partitions, by result.");
        _timeInQueue = _meter.CreateSecondsHistogram(TimeInQueueName, "Time a charge waited in its partition's mailbox.");
    }

    /// <summary>Publishes the queued-requests and queue-limit gauges of <paramref name="partitions"/>.</summary>
    internal void Observe(ChargePartitions partitions)
    {
        var tags = Enumerable.Range(0, partitions.QueueCount)
            .Select(i => new KeyValuePair<string, object?>(MeshTelemetryTags.Partition, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
        _meter.CreateRequestGauge(
            QueuedRequestsName,
            () => tags.Select((tag, i) => new Measurement<int>(partitions.Depth(i), tag)),
            "Charges waiting in each partition's mailbox.");
        _meter.CreateRequestGauge(
            QueueLimitName,
            () => tags.Select(tag => new Measurement<int>(partitions.QueueCapacity, tag)),
            "Capacity of each partition's mailbox.");
    }

    internal void Executed() => Add(s_executed);

    internal void Full() => Add(s_full);

    internal void Skipped() => Add(s_skipped);

    internal void Failed() => Add(s_failed);

    internal void RecordQueueTime(TimeSpan wait) => _timeInQueue.RecordSeconds(wait);

    private void Add(KeyValuePair<string, object?> result) => _requests.Add(1, result);
}
