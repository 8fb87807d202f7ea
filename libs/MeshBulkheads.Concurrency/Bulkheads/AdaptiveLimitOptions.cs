using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// A Vegas-style adaptive limit (Netflix concurrency-limits, Envoy adaptive concurrency): the permit count
/// moves with observed latency compared with the minimum latency seen (the no-load baseline).
/// </summary>
/// <remarks>
/// Each completed request gives a sample. The estimated queue at the server is
/// <c>limit × (1 − minRtt / rtt)</c>; when it is small the limit grows, when it exceeds a few requests
/// (scaled by <c>log10(limit)</c>) the limit shrinks. The result stays within
/// [<see cref="MinLimit"/>, <see cref="MaxLimit"/>].
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

    /// <summary>Returns a copy.</summary>
    /// <returns>The copy.</returns>
    public AdaptiveLimitOptions Clone() => new()
    {
        Enabled = Enabled,
        MinLimit = MinLimit,
        MaxLimit = MaxLimit,
        Smoothing = Smoothing,
    };
}
