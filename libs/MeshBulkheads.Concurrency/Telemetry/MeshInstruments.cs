using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.Concurrency.Telemetry;

/// <summary>
/// Creates the mesh's instruments with the units the mesh's conventions rest on, in one place: every duration is a
/// histogram in seconds (unit <c>s</c>) and every count of calls is in <c>{request}</c>.
/// </summary>
/// <remarks>
/// The unit is what the host's metrics view keys on: <c>AddServiceDefaults</c> gives every histogram with unit
/// <c>s</c> the one bucket definition (<c>MeshTelemetry.SecondsBuckets</c>), so instruments carry no bucket advice of
/// their own (a view wins over advice). <see cref="RecordSeconds(Histogram{double}, TimeSpan, in TagList)"/> records a
/// <see cref="TimeSpan"/> in that unit.
/// </remarks>
public static class MeshInstruments
{
    /// <summary>The unit of every duration: seconds (Prometheus appends <c>_seconds</c>).</summary>
    public const string Seconds = "s";

    /// <summary>The unit of every count of calls, in progress, waiting or done.</summary>
    public const string Requests = "{request}";

    /// <summary>A duration histogram in <see cref="Seconds"/>.</summary>
    /// <param name="meter">The meter.</param>
    /// <param name="name">The instrument name.</param>
    /// <param name="description">What it measures.</param>
    /// <returns>The histogram.</returns>
    public static Histogram<double> CreateSecondsHistogram(this Meter meter, string name, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateHistogram<double>(name, Seconds, description);
    }

    /// <summary>A counter of calls in <see cref="Requests"/>.</summary>
    /// <param name="meter">The meter.</param>
    /// <param name="name">The instrument name.</param>
    /// <param name="description">What it counts.</param>
    /// <returns>The counter.</returns>
    public static Counter<long> CreateRequestCounter(this Meter meter, string name, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateCounter<long>(name, Requests, description);
    }

    /// <summary>An up-down counter of calls (in progress or waiting) in <see cref="Requests"/>.</summary>
    /// <param name="meter">The meter.</param>
    /// <param name="name">The instrument name.</param>
    /// <param name="description">What it counts.</param>
    /// <returns>The up-down counter.</returns>
    public static UpDownCounter<long> CreateRequestUpDownCounter(this Meter meter, string name, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateUpDownCounter<long>(name, Requests, description);
    }

    /// <summary>An observable up-down counter of calls in <see cref="Requests"/>, read when exported.</summary>
    /// <param name="meter">The meter.</param>
    /// <param name="name">The instrument name.</param>
    /// <param name="observe">Reads the current value.</param>
    /// <param name="description">What it counts.</param>
    /// <returns>The instrument.</returns>
    public static ObservableUpDownCounter<int> CreateObservableRequestUpDownCounter(this Meter meter, string name, Func<int> observe, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateObservableUpDownCounter(name, observe, Requests, description);
    }

    /// <summary>An observable gauge of calls in <see cref="Requests"/> (a capacity: permits, queue slots, connections), one measurement per tag set.</summary>
    /// <param name="meter">The meter.</param>
    /// <param name="name">The instrument name.</param>
    /// <param name="observe">Reads the current values.</param>
    /// <param name="description">What it measures.</param>
    /// <returns>The gauge.</returns>
    public static ObservableGauge<int> CreateRequestGauge(this Meter meter, string name, Func<IEnumerable<Measurement<int>>> observe, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateObservableGauge(name, observe, Requests, description);
    }

    /// <summary>Records <paramref name="elapsed"/> in <see cref="Seconds"/>.</summary>
    /// <param name="histogram">A histogram made by <see cref="CreateSecondsHistogram"/>.</param>
    /// <param name="elapsed">The duration.</param>
    /// <param name="tags">Its tags.</param>
    public static void RecordSeconds(this Histogram<double> histogram, TimeSpan elapsed, in TagList tags)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        histogram.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>Records <paramref name="elapsed"/> in <see cref="Seconds"/>.</summary>
    /// <param name="histogram">A histogram made by <see cref="CreateSecondsHistogram"/>.</param>
    /// <param name="elapsed">The duration.</param>
    /// <param name="tags">Its tags (none, or one or two fixed pairs).</param>
    public static void RecordSeconds(this Histogram<double> histogram, TimeSpan elapsed, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        histogram.Record(elapsed.TotalSeconds, tags);
    }
}
