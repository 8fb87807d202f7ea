using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.EndToEnd.Tests;

/// <summary>Collectors of the mesh's counters, and sums of their measurements whose tags match (names from the libraries' constants).</summary>
public static class Measurements
{
    /// <summary>A collector of <paramref name="host"/>'s bulkhead request counter (every bulkhead, every result).</summary>
    public static MetricCollector<long> BulkheadRequestsOf(KestrelHost host) =>
        new(host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

    /// <summary>A collector of the gateway's own counter <paramref name="instrument"/>.</summary>
    public static MetricCollector<long> GatewayCounter(KestrelHost gateway, string instrument) =>
        new(gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, instrument);

    /// <summary>Sum of the measurements whose tags contain every given (tag, value).</summary>
    public static long Sum(MetricCollector<long> collector, params (string Tag, string Value)[] tags) =>
        collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Tag, out var value) && string.Equals(value as string, t.Value, StringComparison.Ordinal)))
            .Sum(m => m.Value);

    /// <summary>Bulkhead requests of <paramref name="bulkhead"/> that ended with <paramref name="result"/>.</summary>
    public static long Ended(MetricCollector<long> collector, string bulkhead, string result) =>
        Sum(collector, (BulkheadConstants.BulkheadTag, bulkhead), (BulkheadConstants.ResultTag, result));

    /// <summary>Bulkhead requests of <paramref name="bulkhead"/> that ended with anything but <c>acquired</c>.</summary>
    public static long Rejected(MetricCollector<long> collector, string bulkhead) =>
        collector.GetMeasurementSnapshot()
            .Where(m => m.Tags.TryGetValue(BulkheadConstants.BulkheadTag, out var name) && string.Equals(name as string, bulkhead, StringComparison.Ordinal))
            .Where(m => !(m.Tags.TryGetValue(BulkheadConstants.ResultTag, out var result) && string.Equals(result as string, BulkheadConstants.Results.Acquired, StringComparison.Ordinal)))
            .Sum(m => m.Value);

    /// <summary>"result=count, …" of one bulkhead, for assertion messages.</summary>
    public static string Breakdown(MetricCollector<long> collector, string bulkhead) =>
        string.Join(", ", collector.GetMeasurementSnapshot()
            .Where(m => m.Tags.TryGetValue(BulkheadConstants.BulkheadTag, out var name) && string.Equals(name as string, bulkhead, StringComparison.Ordinal))
            .GroupBy(m => m.Tags.TryGetValue(BulkheadConstants.ResultTag, out var result) ? result as string : null)
            .Select(g => $"{g.Key}={g.Sum(m => m.Value)}"));
}
