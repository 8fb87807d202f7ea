using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.Extensions.Hosting;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Gateway.Tests.Bulkheads;

/// <summary>
/// The real gateway with one reporting destination and a second fake replica ready to add, for the route
/// bulkhead's resizing; payments and render unreachable. The background resize loop looks once an hour unless
/// the settings say otherwise, so a test drives <see cref="Monitor"/> itself.
/// </summary>
public sealed class ReportingRouteGateway : IAsyncDisposable
{
    private ReportingRouteGateway(KestrelHost gateway, FakeBackend reporting, FakeBackend reporting2)
    {
        Gateway = gateway;
        Reporting = reporting;
        Reporting2 = reporting2;
        Bulkhead = gateway.Services.GetRequiredService<IBulkheadProvider>().Get("gateway-reporting");
        Monitor = gateway.Services.GetServices<IHostedService>().OfType<RouteCapacityMonitor>().Single();
        FailureCollector = new MetricCollector<long>(gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.route_bulkhead.resize_failures");
    }

    public KestrelHost Gateway { get; }

    public FakeBackend Reporting { get; }

    /// <summary>A second reporting replica, not a destination until <see cref="AddSecondDestinationAsync"/>.</summary>
    public FakeBackend Reporting2 { get; }

    /// <summary>The reporting route's bulkhead (<c>gateway-reporting</c>).</summary>
    public Bulkhead Bulkhead { get; }

    public RouteCapacityMonitor Monitor { get; }

    /// <summary>The gateway's resize-failure counter since the start.</summary>
    public MetricCollector<long> FailureCollector { get; }

    /// <summary>Resize failures counted for the reporting route.</summary>
    public long Failures => FailureCollector.GetMeasurementSnapshot().Where(m => (string?)m.Tags[MeshTelemetryTags.Route] == "reporting").Sum(m => m.Value);

    public static async Task<ReportingRouteGateway> StartAsync(Dictionary<string, string?> settings)
    {
        var reporting = await FakeBackend.StartAsync<FakeReportingService>();
        var reporting2 = await FakeBackend.StartAsync<FakeReportingService>();
        var closed = GatewayHost.ClosedPort();
        settings.TryAdd("Gateway:RouteBulkheads:RefreshInterval", "01:00:00");
        var gateway = await GatewayHost.StartAsync(closed, reporting.Address, closed, settings);
        return new ReportingRouteGateway(gateway, reporting, reporting2);
    }

    public void Reload(Dictionary<string, string?> values) => ConfigurationEdit.Apply(Gateway.Services, values);

    /// <summary>Adds <see cref="Reporting2"/> as destination d2 (with <paramref name="more"/>) and waits until YARP has applied it.</summary>
    public async Task AddSecondDestinationAsync(Dictionary<string, string?>? more = null)
    {
        var values = new Dictionary<string, string?>(more ?? [])
        {
            ["ReverseProxy:Clusters:reporting:Destinations:d2:Address"] = Reporting2.Address.ToString(),
        };
        Reload(values);
        // YARP applies a configuration change on its own schedule: look only once it has.
        var proxyState = Gateway.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        await WaitUntilAsync(() => proxyState.TryGetCluster("reporting", out var cluster) && cluster.DestinationsState.AvailableDestinations.Count == 2);
    }

    /// <summary>
    /// Two looks while the configuration cannot be applied, then <paramref name="goodReload"/> and one more look;
    /// returns what the looks threw and the limit and failure count between the bad looks and the good reload.
    /// </summary>
    public WhileInvalid RefreshTwiceThenReload(Dictionary<string, string?> goodReload)
    {
        var first = Record.Exception(Monitor.Refresh);
        var second = Record.Exception(Monitor.Refresh);
        var whileInvalid = new WhileInvalid(first, second, Bulkhead.Options.PermitLimit, Failures);
        Reload(goodReload);
        Monitor.Refresh();
        return whileInvalid;
    }

    public async ValueTask DisposeAsync()
    {
        FailureCollector.Dispose();
        await Gateway.DisposeAsync();
        await Reporting.DisposeAsync();
        await Reporting2.DisposeAsync();
    }

    /// <summary>What <see cref="RefreshTwiceThenReload"/> saw before the good reload.</summary>
    public sealed record WhileInvalid(Exception? FirstRefresh, Exception? SecondRefresh, int PermitLimit, long Failures);
}
