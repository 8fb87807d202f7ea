using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Gateway.Bulkheads.Internal;

/// <summary>
/// The options of every bulkhead named <c>gateway-&lt;route&gt;</c>, in one step so nothing overwrites anything
/// afterwards: the gateway's defaults, then <c>Bulkheads:gateway-&lt;route&gt;</c>, then the two derived limits from
/// <c>Gateway:RouteBulkheads:&lt;route&gt;</c> and the destinations (their own keys are refused by validation).
/// Read afresh on every <c>IOptionsFactory.Create</c>, which is how <see cref="RouteCapacityMonitor"/> applies reloads.
/// </summary>
internal sealed class RouteBulkheadOptionsSetup(IConfiguration configuration, RouteCapacity capacity) : IConfigureNamedOptions<BulkheadOptions>
{
    public void Configure(BulkheadOptions options)
    {
        // The unnamed options are no route's.
    }

    public void Configure(string? name, BulkheadOptions options)
    {
        if (name is null || !RouteBulkheads.TryGetRouteId(name, out var route))
        {
            return;
        }

        // Services own the real queues: the gateway's waits briefly (do not stack queues on one path).
        options.MaxQueueTime = TimeSpan.FromMilliseconds(200);
        options.CongestionThreshold = TimeSpan.FromMilliseconds(50);
        options.TenantMaxShare = 0.5;
        configuration.GetSection($"{BulkheadConstants.SectionName}:{name}").Bind(options);

        // Bound afresh and checked for this route only: one route's bad setting must not hold back the others' resizes.
        var all = new RouteBulkheadsOptions();
        all.Bind(configuration.GetSection(RouteBulkheadsOptions.SectionName));
        var settings = all.For(route);
        var failures = RouteBulkheadsOptionsValidation.Check(route, settings, configuration).ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(name, typeof(BulkheadOptions), failures);
        }

        options.PermitLimit = capacity.Scale(route, settings.PermitsPerDestination);
        options.QueueLimit = capacity.Scale(route, settings.QueuePerDestination);
    }
}
