using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// A Vegas-style adaptive limit (Netflix concurrency-limits, Envoy adaptive concurrency): the permit count
/// moves with observed latency compared with a measured no-load baseline.
/// </summary>
/// <remarks>
/// Each completed request gives a sample. The estimated queue at the server is
/// <c>limit × (1 − minRtt / rtt)</c>; when it is small the limit grows, when it exceeds a few requests
/// (scaled by <c>log10(limit)</c>) the limit shrinks. The result stays within
/// [<see cref="MinLimit"/>, <see cref="MaxLimit"/>]. Only leases disposed after doing work are samples
/// (<see cref="BulkheadLease.Abandon"/> releases without one). The baseline is re-measured at the first sample and
/// every <see cref="BaselineInterval"/>: the limit drops to 3 (or stays lower; within MinLimit..MaxLimit) until
/// <see cref="BaselineSamples"/> requests admitted meanwhile complete, the baseline becomes their median, and the
/// limit returns to its previous value (Envoy's minRTT window).
/// </remarks>
public sealed class AdaptiveLimitOptions
{
    /// <summary>Whether the adaptive limit is on.</summary>
    /// <value>The default value is <see langword="false"/>: the permit count is <see cref="BulkheadOptions.PermitLimit"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>The lowest the limit may go.</summary>
    /// <value>The default value is 1. Range 1 to 100 000; at most <see cref="BulkheadOptions.PermitLimit"/>.</value>
    [Range(1, 100_000)]
    public int MinLimit { get; set; } = 1;

    /// <summary>The highest the limit may go.</summary>
    /// <value>The default value is 1000. Range 1 to 100 000; at least <see cref="BulkheadOptions.PermitLimit"/>.</value>
    [Range(1, 100_000)]
    public int MaxLimit { get; set; } = 1000;

    /// <summary>How far each sample moves the limit toward its target (exponential smoothing).</summary>
    /// <value>The default value is 0.2. Range 0.01 to 1 (1 = no smoothing).</value>
    [Range(0.01, 1.0)]
    public double Smoothing { get; set; } = 0.2;

    /// <summary>How often the no-load baseline is re-measured.</summary>
    /// <value>The default value is 30 seconds. Range 100 ms to 1 hour.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan BaselineInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many requests admitted at the probe concurrency make one baseline measurement (their median).</summary>
    /// <value>The default value is 20. Range 1 to 1000.</value>
    [Range(1, 1000)]
    public int BaselineSamples { get; set; } = 20;

    /// <summary>Returns a copy.</summary>
    /// <returns>The copy (every property is a value, so a shallow copy is a full one).</returns>
    public AdaptiveLimitOptions Clone() => (AdaptiveLimitOptions)MemberwiseClone();
}
