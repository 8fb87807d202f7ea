using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Section <c>Gateway:RouteBulkheads</c>: how often the route bulkheads follow the destinations, and per YARP
/// route (<c>Gateway:RouteBulkheads:&lt;route&gt;</c>) the sources of its bulkhead's derived limits.
/// </summary>
/// <remarks>
/// A route's bulkhead is <c>gateway-&lt;route&gt;</c> (<see cref="RouteBulkheads.NameOf"/>). Its <c>PermitLimit</c> is
/// <see cref="RouteBulkheadOptions.PermitsPerDestination"/> × available destinations and its <c>QueueLimit</c>
/// <see cref="RouteBulkheadOptions.QueuePerDestination"/> × available destinations; every other bulkhead setting is
/// <c>Bulkheads:gateway-&lt;route&gt;:*</c>. Setting <c>Bulkheads:gateway-&lt;route&gt;:PermitLimit</c> or <c>:QueueLimit</c>
/// directly fails validation with a message naming the source key.
/// </remarks>
public sealed class RouteBulkheadsOptions
{
    public const string SectionName = "Gateway:RouteBulkheads";

    /// <summary>How often YARP's destinations are looked at (read at start); not a route name.</summary>
    /// <value>The default value is 1 second. Range 10 ms to 1 day.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Per-route settings by YARP route id (every other child of the section); routes not listed get the defaults.</summary>
    public Dictionary<string, RouteBulkheadOptions> Routes { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The settings of <paramref name="routeId"/>.</summary>
    public RouteBulkheadOptions For(string routeId) => Routes.TryGetValue(routeId, out var route) ? route : RouteBulkheadOptions.Default;

    /// <summary>
    /// Binds <paramref name="section"/>: <c>RefreshInterval</c>, and every other child as a route. The per-route
    /// children sit next to <c>RefreshInterval</c> (the documented key shape), which the binder cannot map to a dictionary.
    /// </summary>
    public void Bind(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        RefreshInterval = section.GetValue(nameof(RefreshInterval), RefreshInterval);
        foreach (var child in section.GetChildren().Where(c => !string.Equals(c.Key, nameof(RefreshInterval), StringComparison.OrdinalIgnoreCase)))
        {
            var route = new RouteBulkheadOptions();
            child.Bind(route);
            Routes[child.Key] = route;
        }
    }
}
