using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Section <c>Gateway:RouteBulkheads:&lt;route&gt;</c>: the explicit sources of the route bulkhead's derived limits.
/// The gateway's share of a route scales with the replicas behind it, so the gateway does not become the
/// bottleneck when a service scales out.
/// </summary>
public sealed class RouteBulkheadOptions
{
    /// <summary>Default of <see cref="PermitsPerDestination"/>.</summary>
    public const int DefaultPermitsPerDestination = 64;

    /// <summary>Default of <see cref="QueuePerDestination"/>.</summary>
    public const int DefaultQueuePerDestination = 16;

    internal static readonly RouteBulkheadOptions Default = new();

    /// <summary>Concurrent calls one available destination of the route may get from this gateway.</summary>
    /// <value>The default value is 64. Range 1 to 100 000. <c>Bulkheads:gateway-&lt;route&gt;:PermitLimit</c> = this × available destinations (at least 1).</value>
    [Range(1, 100_000)]
    public int PermitsPerDestination { get; set; } = DefaultPermitsPerDestination;

    /// <summary>Calls that may wait for a route permit, per available destination.</summary>
    /// <value>
    /// The default value is 16. Range 0 to 100 000. <c>Bulkheads:gateway-&lt;route&gt;:QueueLimit</c> = this × available
    /// destinations. Short on purpose: the services own the real queues, and queues stacked on one path only add latency.
    /// </value>
    [Range(0, 100_000)]
    public int QueuePerDestination { get; set; } = DefaultQueuePerDestination;
}
