using System.Diagnostics.Metrics;
using System.Text.Json;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Telemetry;
using Yarp.ReverseProxy;

namespace MeshBulkheads.Gateway.Bulkheads;

/// <summary>
/// Polls YARP's cluster state (destinations come and go with configuration or DNS, and health checks
/// mark them up or down, and YARP has no single change notification for all of that) and resizes a
/// route's bulkhead when its number of available destinations changes, so the gateway does not become
/// the bottleneck when a service scales out.
/// </summary>
/// <remarks>
/// <para>Each look creates the bulkhead of a route it has not seen yet (a route added by a reload), and builds
/// every route's options afresh from configuration as it is now (the <c>Bulkheads:gateway-&lt;route&gt;</c> section
/// plus the limits derived from <c>Gateway:RouteBulkheads:&lt;route&gt;</c> and the destinations), never from the
/// bulkhead's own copy, and applies them when they differ from the options in force. So a
/// configuration reload applied between reading and writing is never overwritten with stale values,
/// and whatever did not apply is applied at the next look.</para>
/// <para>Options that fail validation (e.g. <c>PermitsPerDestination: 0</c> by a reload, or an adaptive
/// <c>MaxLimit</c> below the scaled permits) are not applied: the bulkhead keeps its last good options,
/// the failure is logged (<c>RouteResizeRejected</c>) and counted
/// (<c>meshbulkheads.gateway.route_bulkhead.resize_failures</c>) once, and the next change of the
/// destinations or the configuration is tried again. Nothing a look throws stops the host.</para>
/// </remarks>
public sealed class RouteCapacityMonitor(
    IProxyStateLookup proxyState,
    RouteBulkheads bulkheads,
    RouteCapacity capacity,
    IOptionsFactory<BulkheadOptions> optionsFactory,
    IOptions<RouteBulkheadsOptions> options,
    GatewayMetrics metrics,
    TimeProvider timeProvider,
    ILogger<RouteCapacityMonitor> logger) : BackgroundService
{
    private readonly Lock _lock = new();
    private TimeSpan _interval;

    // Per route, the options that last failed validation: the same failure is logged and counted once.
    private readonly Dictionary<string, string> _rejected = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Creates the bulkhead of every route YARP serves from the final configuration (YARP has loaded it when the
    /// endpoints were mapped, before hosted services start): invalid route options stop the start here.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Read here, at start (validated): ExecuteAsync may first run after a reload, and a bad reload must not stop the host.
        _interval = options.Value.RefreshInterval;
        metrics.ObserveDestinationHealth(DestinationHealth);
        foreach (var route in proxyState.GetRoutes().Where(r => r.Cluster is not null))
        {
            bulkheads.GetOrCreate(route.Config.RouteId);
        }

        return base.StartAsync(cancellationToken);
    }

    private IEnumerable<Measurement<int>> DestinationHealth()
    {
        foreach (var cluster in proxyState.GetClusters())
        {
            foreach (var (id, destination) in cluster.Destinations)
            {
                var healthy = destination.Health.Active != Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy
                    && destination.Health.Passive != Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy;
                yield return new Measurement<int>(healthy ? 1 : 0, new KeyValuePair<string, object?>(MeshTelemetryTags.Cluster, cluster.ClusterId), new KeyValuePair<string, object?>(MeshTelemetryTags.Destination, id));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, timeProvider);
        do
        {
            try
            {
                Refresh();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A BackgroundService that throws stops the host: a bad look must only cost this look.
                GatewayBulkheadLog.RefreshFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Looks at every route once.</summary>
    public void Refresh()
    {
        // One look at a time (the background loop and tests), so the failure bookkeeping is consistent.
        lock (_lock)
        {
            foreach (var route in proxyState.GetRoutes())
            {
                var routeId = route.Config.RouteId;
                if (route.Cluster is not { } cluster)
                {
                    continue;
                }

                capacity.SetDestinations(routeId, cluster.DestinationsState.AvailableDestinations.Count);
                // A route new since the last look gets its bulkhead now (a failure is logged and counted there).
                if (bulkheads.TryGetOrCreate(routeId, out var bulkhead))
                {
                    Apply(routeId, bulkhead);
                }
            }
        }
    }

    private void Apply(string routeId, Bulkhead bulkhead)
    {
        var applied = bulkhead.Options;
        BulkheadOptions desired;
        try
        {
            // The route's options setup derives PermitLimit and QueueLimit from the destinations just recorded.
            desired = optionsFactory.Create(bulkhead.Name);
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or FormatException)
        {
            // A validator, or a value the binder cannot convert (e.g. PermitsPerDestination: "abc").
            Reject(routeId, applied, permitLimit: null, e.Message);
            return;
        }

        var fingerprint = JsonSerializer.Serialize(desired);
        if (fingerprint == JsonSerializer.Serialize(applied))
        {
            _rejected.Remove(routeId);
            return;
        }

        if (_rejected.TryGetValue(routeId, out var rejected) && rejected == fingerprint)
        {
            // Already refused: wait for the destinations or the configuration to change.
            return;
        }

        try
        {
            bulkhead.UpdateOptions(desired);
        }
        catch (ArgumentException e)
        {
            _rejected[routeId] = fingerprint;
            Reject(routeId, applied, desired.PermitLimit, e.Message);
            return;
        }

        _rejected.Remove(routeId);
        if (desired.PermitLimit != applied.PermitLimit)
        {
            GatewayBulkheadLog.Resized(logger, routeId, capacity.DestinationsOf(routeId), desired.PermitLimit);
        }
    }

    private void Reject(string routeId, BulkheadOptions applied, int? permitLimit, string failure)
    {
        if (permitLimit is null && _rejected.TryGetValue(routeId, out var previous) && previous == failure)
        {
            return;
        }

        if (permitLimit is null)
        {
            _rejected[routeId] = failure;
        }

        metrics.RouteResizeFailed(routeId);
        GatewayBulkheadLog.ResizeRejected(logger, routeId, capacity.DestinationsOf(routeId), permitLimit ?? -1, applied.PermitLimit, failure);
    }
}

internal static partial class GatewayBulkheadLog
{
    [LoggerMessage(20, LogLevel.Information, "Route {RouteId} has {Destinations} available destinations: bulkhead resized to {PermitLimit} permits", EventName = nameof(Resized))]
    public static partial void Resized(ILogger logger, string routeId, int destinations, int permitLimit);

    [LoggerMessage(21, LogLevel.Error, "Route {RouteId} with {Destinations} available destinations: bulkhead options with {PermitLimit} permits refused, the last good options ({AppliedPermitLimit} permits) keep serving; retried when the destinations or the configuration change. {Failures}", EventName = nameof(ResizeRejected))]
    public static partial void ResizeRejected(ILogger logger, string routeId, int destinations, int permitLimit, int appliedPermitLimit, string failures);

    [LoggerMessage(22, LogLevel.Error, "Route capacity refresh failed; the route bulkheads keep their options and the next refresh tries again", EventName = nameof(RefreshFailed))]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(23, LogLevel.Information, "Route {RouteId}: bulkhead {Bulkhead} created with {PermitLimit} permits and {QueueLimit} queue slots for {Destinations} available destinations (derived from {Section}:<route>:PermitsPerDestination and QueuePerDestination)", EventName = nameof(Created))]
    public static partial void Created(ILogger logger, string routeId, string bulkhead, int permitLimit, int queueLimit, int destinations, string section);

    [LoggerMessage(24, LogLevel.Error, "Route {RouteId}: bulkhead {Bulkhead} cannot be created, calls on the route are forwarded without a route permit until its configuration is fixed. {Failures}", EventName = nameof(CreateRejected))]
    public static partial void CreateRejected(ILogger logger, string routeId, string bulkhead, string failures);
}
