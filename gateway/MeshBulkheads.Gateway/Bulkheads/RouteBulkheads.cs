using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Telemetry;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// One shared-library <see cref="Bulkhead"/> per YARP route, named <c>gateway-&lt;route&gt;</c> (unique across the
/// mesh: the services' bulkheads are <c>payments-*</c>, <c>reporting</c>, <c>render</c>…). Created from the routes
/// YARP serves, so a route added by the host's or a test's configuration, or by a reload, is protected like the
/// others: at host start and at each look of <see cref="RouteCapacityMonitor"/>, or by its first call.
/// </summary>
public sealed class RouteBulkheads(IBulkheadProvider bulkheads, RouteCapacity capacity, GatewayMetrics metrics, ILogger<RouteBulkheads> logger)
{
    /// <summary>The prefix of every route bulkhead's name (and <c>Bulkheads:&lt;name&gt;</c> key, and metric label).</summary>
    public const string NamePrefix = "gateway-";

    // Per route, the creation failure last logged: a call per second on a misconfigured route logs it once.
    private readonly ConcurrentDictionary<string, string> _failures = new(StringComparer.OrdinalIgnoreCase);

    // Route id → bulkhead name, built once per route (ids come from YARP's configuration: bounded), not per call.
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);

    /// <summary>The bulkhead name of <paramref name="routeId"/>.</summary>
    public static string NameOf(string routeId) => NamePrefix + routeId;

    /// <summary>The route of a route bulkhead's name; false for every other bulkhead.</summary>
    public static bool TryGetRouteId(string bulkheadName, [NotNullWhen(true)] out string? routeId)
    {
        routeId = bulkheadName.StartsWith(NamePrefix, StringComparison.OrdinalIgnoreCase) && bulkheadName.Length > NamePrefix.Length
            ? bulkheadName[NamePrefix.Length..]
            : null;
        return routeId is not null;
    }

    /// <summary>The route's bulkhead when it exists already.</summary>
    public bool TryGet(string routeId, [NotNullWhen(true)] out Bulkhead? bulkhead) =>
        bulkheads.TryGet(_names.GetOrAdd(routeId, NameOf), out bulkhead);

    /// <summary>The route's bulkhead, created from the options as they are now when it does not exist yet.</summary>
    /// <exception cref="OptionsValidationException">The route's options are invalid.</exception>
    public Bulkhead GetOrCreate(string routeId)
    {
        if (TryGet(routeId, out var existing))
        {
            return existing;
        }

        var bulkhead = bulkheads.GetOrAdd(NameOf(routeId));
        _failures.TryRemove(routeId, out _);
        GatewayBulkheadLog.Created(logger, routeId, bulkhead.Name, bulkhead.Options.PermitLimit, bulkhead.Options.QueueLimit, capacity.DestinationsOf(routeId), RouteBulkheadsOptions.SectionName);
        return bulkhead;
    }

    /// <summary>
    /// As <see cref="GetOrCreate"/>, but an invalid configuration is logged (once per failure) and counted instead
    /// of thrown: the call is then forwarded without a route permit, as the last good configuration cannot apply.
    /// </summary>
    public bool TryGetOrCreate(string routeId, [NotNullWhen(true)] out Bulkhead? bulkhead)
    {
        if (TryGet(routeId, out bulkhead))
        {
            return true;
        }

        try
        {
            bulkhead = GetOrCreate(routeId);
            return true;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or FormatException)
        {
            if (!_failures.TryGetValue(routeId, out var previous) || previous != e.Message)
            {
                _failures[routeId] = e.Message;
                metrics.RouteResizeFailed(routeId);
                GatewayBulkheadLog.CreateRejected(logger, routeId, NameOf(routeId), e.Message);
            }

            bulkhead = null;
            return false;
        }
    }
}
