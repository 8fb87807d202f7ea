using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>The deadline policy of one gRPC method (or method prefix).</summary>
/// <remarks>
/// Checked at start-up: <c>MaxQueueTime</c> of the bulkhead the method is routed to &lt; <see cref="Default"/> ≤ <see cref="Max"/>.
/// </remarks>
public sealed class DeadlineOptions
{
    /// <summary>The deadline applied when the caller sends no <c>grpc-timeout</c>.</summary>
    /// <value>The default value is 5 seconds. Range 1 ms to 1 hour.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan Default { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest deadline honoured; a longer <c>grpc-timeout</c> is clamped to this.</summary>
    /// <value>The default value is 30 seconds. Range 1 ms to 1 hour; at least <see cref="Default"/>.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan Max { get; set; } = TimeSpan.FromSeconds(30);
}
