using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>Sums of collected counter measurements whose tags match.</summary>
public static class Measurements
{
    /// <summary>The library's bulkhead request counter (meter <c>MeshBulkheads.Concurrency</c>).</summary>
    public const string BulkheadMeter = "MeshBulkheads.Concurrency";

    public const string BulkheadRequests = "meshbulkheads.bulkhead.requests";

    public const string BulkheadTag = "meshbulkheads.bulkhead";

    public const string BulkheadResultTag = "meshbulkheads.bulkhead.result";

    /// <summary>The gateway's own meter.</summary>
    public const string GatewayMeter = "MeshBulkheads.Gateway";

    /// <summary>Sum of the measurements whose tags contain every given (tag, value).</summary>
    public static long Sum(MetricCollector<long> collector, params (string Tag, string Value)[] tags) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Tag, out var value) && string.Equals(value as string, t.Value, StringComparison.Ordinal)))
            .Sum(m => m.Value);

    /// <summary>Bulkhead requests of <paramref name="bulkhead"/> that ended with anything but <c>acquired</c>.</summary>
    public static long Rejected(MetricCollector<long> collector, string bulkhead) =>
        collector.GetMeasurementSnapshot()
            .Where(m => m.Tags.TryGetValue(BulkheadTag, out var name) && string.Equals(name as string, bulkhead, StringComparison.Ordinal))
            .Where(m => !(m.Tags.TryGetValue(BulkheadResultTag, out var result) && string.Equals(result as string, "acquired", StringComparison.Ordinal)))
            .Sum(m => m.Value);

    /// <summary>"result=count, …" of one bulkhead, for assertion messages.</summary>
    public static string Breakdown(MetricCollector<long> collector, string bulkhead) =>
        string.Join(", ", collector.GetMeasurementSnapshot()
            .Where(m => m.Tags.TryGetValue(BulkheadTag, out var name) && string.Equals(name as string, bulkhead, StringComparison.Ordinal))
            .GroupBy(m => m.Tags.TryGetValue(BulkheadResultTag, out var result) ? result as string : null)
            .Select(g => $"{g.Key}={g.Sum(m => m.Value)}"));
}
