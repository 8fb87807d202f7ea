using System.Collections.Concurrent;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// The number of available (healthy or not yet probed) destinations behind each route, kept up to
/// date by <see cref="RouteCapacityMonitor"/>; a route's bulkhead has
/// <c>PermitsPerDestination × max(1, destinations)</c> permits and <c>QueuePerDestination × max(1, destinations)</c>
/// queue slots (<see cref="RouteBulkheadOptions"/>).
/// </summary>
public sealed class RouteCapacity
{
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

    /// <summary><paramref name="perDestination"/> scaled by the available destinations of <paramref name="route"/>.</summary>
    public int Scale(string route, int perDestination) =>
        // With no available destination the route answers no-healthy-backend anyway; keep one destination's worth.
        (int)Math.Min(100_000L, (long)perDestination * Math.Max(1, DestinationsOf(route)));
}
