using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>The limits of one bulkhead: a bounded number of permits and a bounded wait queue.</summary>
/// <remarks>
/// Every limit is finite and validated at start-up (<c>ValidateOnStart</c>) and on every reload; an invalid
/// reload is logged, counted and ignored (the last good snapshot stays in force). Bound from configuration
/// section <c>Bulkheads:&lt;name&gt;</c>. See <c>docs/sizing.md</c> for how the defaults were derived.
/// </remarks>
public sealed class BulkheadOptions
{
    /// <summary>The number of requests that may run at the same time.</summary>
    /// <value>The default value is 32. Range 1 to 100 000. With <see cref="AdaptiveLimit"/> enabled this is the starting limit.</value>
    [Range(1, 100_000)]
    public int PermitLimit { get; set; } = BulkheadConstants.DefaultPermitLimit;

    /// <summary>The number of requests that may wait for a permit; 0 = reject at once when all permits are busy.</summary>
    /// <value>The default value is 64. Range 0 to 100 000.</value>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = BulkheadConstants.DefaultQueueLimit;

    /// <summary>Which waiter gets the next permit.</summary>
    /// <value>The default value is <see cref="BulkheadQueueOrder.Fifo"/>.</value>
    [EnumDataType(typeof(BulkheadQueueOrder))]
    public BulkheadQueueOrder QueueProcessingOrder { get; set; } = BulkheadQueueOrder.Fifo;

    /// <summary>The longest a request may wait in the queue before it is shed with <see cref="BulkheadRejectionReason.QueueTimeout"/>.</summary>
    /// <value>The default value is 500 ms. Range 1 ms to 5 minutes.</value>
    /// <remarks>
    /// CoDel's idea: bound the standing queue by sojourn time, not only by length. Must stay below the default
    /// deadline of every gRPC method routed to this bulkhead (checked at start-up).
    /// </remarks>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan MaxQueueTime { get; set; } = BulkheadConstants.DefaultMaxQueueTime;

    /// <summary>With <see cref="BulkheadQueueOrder.AdaptiveLifo"/>: the queue counts as congested while its oldest waiter is older than this.</summary>
    /// <value>The default value is 100 ms. Range 1 ms to 5 minutes; must be below <see cref="MaxQueueTime"/>.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan CongestionThreshold { get; set; } = BulkheadConstants.DefaultCongestionThreshold;

    /// <summary>The largest fraction of permits plus queue slots one tenant may occupy.</summary>
    /// <value>The default value is 1 (off). Range greater than 0 to 1; e.g. 0.5 lets one tenant hold at most half.</value>
    /// <remarks>Requests without a tenant are not counted. The bound is <c>ceil(share × (PermitLimit + QueueLimit))</c>.</remarks>
    [Range(0.001, 1.0)]
    public double TenantMaxShare { get; set; } = 1.0;

    /// <summary>The optional latency-driven limit (off by default).</summary>
    /// <value>A new <see cref="AdaptiveLimitOptions"/> with <see cref="AdaptiveLimitOptions.Enabled"/> false.</value>
    [Required]
    [ValidateObjectMembers]
    public AdaptiveLimitOptions AdaptiveLimit { get; set; } = new();

    /// <summary>Pitfall switches; all off by default. Never in production.</summary>
    /// <value>A new <see cref="BulkheadPitfallOptions"/> with every switch off.</value>
    [Required]
    public BulkheadPitfallOptions Pitfalls { get; set; } = new();

    /// <summary>Returns a copy (options snapshots are immutable once applied).</summary>
    /// <returns>The copy: the values copied as they are, the two nested options cloned.</returns>
    public BulkheadOptions Clone()
    {
        var copy = (BulkheadOptions)MemberwiseClone();
        copy.AdaptiveLimit = AdaptiveLimit.Clone();
        copy.Pitfalls = Pitfalls.Clone();
        return copy;
    }
}
