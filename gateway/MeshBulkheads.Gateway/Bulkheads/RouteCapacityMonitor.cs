using MeshBulkheads.Concurrency.Bulkheads;
using Yarp.ReverseProxy;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Polls YARP's cluster state (destinations come and go with configuration or DNS, and health checks
/// mark them up or down, and YARP has no single change notification for all of that) and resizes a
/// route's bulkhead when its number of available destinations changes, so the gateway does not become
/// the bottleneck when a service scales out.
/// </summary>
public sealed class RouteCapacityMonitor(
    IProxyStateLookup proxyState,
    IBulkheadProvider bulkheads,
    RouteCapacity capacity,
    IConfiguration configuration,
    TimeProvider timeProvider,
    ILogger<RouteCapacityMonitor> logger) : BackgroundService
{
    /// <summary>Default of <c>Gateway:RouteBulkheads:RefreshInterval</c>.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue($"{RouteCapacity.SectionName}:RefreshInterval", DefaultRefreshInterval);
        using var timer = new PeriodicTimer(interval, timeProvider);
        do
        {
            Refresh();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Looks at every route once.</summary>
    public void Refresh()
    {
        foreach (var route in proxyState.GetRoutes())
        {
            var routeId = route.Config.RouteId;
            if (route.Cluster is not { } cluster || !bulkheads.TryGet(routeId, out var bulkhead))
            {
                continue;
            }

            if (capacity.SetDestinations(routeId, cluster.DestinationsState.AvailableDestinations.Count))
            {
                var options = bulkhead.Options;
                options.PermitLimit = capacity.PermitsOf(routeId);
                bulkhead.UpdateOptions(options);
                GatewayBulkheadLog.Resized(logger, routeId, capacity.DestinationsOf(routeId), options.PermitLimit);
            }
        }
    }
}

internal static partial class GatewayBulkheadLog
{
    [LoggerMessage(20, LogLevel.Information, "Route {RouteId} has {Destinations} available destinations: bulkhead resized to {PermitLimit} permits", EventName = nameof(Resized))]
    public static partial void Resized(ILogger logger, string routeId, int destinations, int permitLimit);
}
