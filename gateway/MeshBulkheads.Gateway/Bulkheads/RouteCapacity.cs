using System.Collections.Concurrent;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// The number of available (healthy or not yet probed) destinations behind each route, kept up to
/// date by <see cref="RouteCapacityMonitor"/>; a route's bulkhead has
/// <c>PermitsPerDestination × max(1, destinations)</c> permits.
/// </summary>
public sealed class RouteCapacity(IConfiguration configuration)
{
    /// <summary>The configuration section of the per-route settings (<c>Gateway:RouteBulkheads:&lt;route&gt;</c>).</summary>
    public const string SectionName = "Gateway:RouteBulkheads";

    /// <summary>Default of <c>Gateway:RouteBulkheads:&lt;route&gt;:PermitsPerDestination</c>.</summary>
    public const int DefaultPermitsPerDestination = 64;

    private readonly ConcurrentDictionary<string, int> _destinations = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The available destinations last seen for <paramref name="route"/> (1 before the first look).</summary>
    public int DestinationsOf(string route) => _destinations.GetValueOrDefault(route, 1);

    /// <summary>Records the available destinations; true when the number changed.</summary>
    public bool SetDestinations(string route, int count)
    {
        var previous = _destinations.GetValueOrDefault(route, 1);
        _destinations[route] = count;
        return previous != count;
    }

    /// <summary>Concurrent calls one destination of <paramref name="route"/> may get from this gateway.</summary>
    public int PermitsPerDestination(string route) =>
        configuration.GetValue($"{SectionName}:{route}:PermitsPerDestination", DefaultPermitsPerDestination);

    /// <summary>The permits of <paramref name="route"/>'s bulkhead now.</summary>
    public int PermitsOf(string route) =>
        // With no available destination the route answers no-healthy-backend anyway; keep one destination's worth.
        (int)Math.Min(100_000L, (long)PermitsPerDestination(route) * Math.Max(1, DestinationsOf(route)));
}
