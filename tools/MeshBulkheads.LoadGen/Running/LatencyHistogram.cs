using HdrHistogram;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>An HdrHistogram of latencies in microseconds (1 µs … 1 h, 3 significant digits).</summary>
internal sealed class LatencyHistogram
{
    private const long HighestMicroseconds = 3_600_000_000;
    private readonly LongHistogram _histogram = new(HighestMicroseconds, 3);

    public long Count => _histogram.TotalCount;

    public void Record(TimeSpan latency)
    {
        var micros = Math.Clamp((long)latency.TotalMicroseconds, 1, HighestMicroseconds);
        _histogram.RecordValue(micros);
    }

    public TimeSpan Percentile(double percentile) =>
        Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds(_histogram.GetValueAtPercentile(percentile));

    public TimeSpan Max => Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds(_histogram.GetMaxValue());

    public TimeSpan Mean => Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds(_histogram.GetMean());

    public void Reset() => _histogram.Reset();
}
