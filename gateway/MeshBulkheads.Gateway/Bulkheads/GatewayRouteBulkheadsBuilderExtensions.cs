using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Gateway.Bulkheads.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's route bulkheads (<c>Bulkheads/</c>).</summary>
public static class GatewayRouteBulkheadsBuilderExtensions
{
    /// <summary>
    /// One bulkhead <c>gateway-&lt;route&gt;</c> per route YARP serves, created from the final configuration (host start,
    /// and every route a reload adds), its limits derived from <c>Gateway:RouteBulkheads:&lt;route&gt;</c> and the
    /// available destinations and kept up to date by <see cref="RouteCapacityMonitor"/>.
    /// </summary>
    public static IReverseProxyBuilder AddGatewayRouteBulkheads(this IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        services.AddBulkheads();
        services.AddOptions<RouteBulkheadsOptions>()
            .Configure<IConfiguration>((o, c) => o.Bind(c.GetSection(RouteBulkheadsOptions.SectionName)))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RouteBulkheadsOptions>, RouteBulkheadsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RouteBulkheadsOptions>, RouteBulkheadsOptionsValidation>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<BulkheadOptions>, RouteBulkheadOptionsSetup>());
        services.TryAddSingleton<RouteCapacity>();
        services.TryAddSingleton<RouteBulkheads>();
        services.AddHostedService<RouteCapacityMonitor>();
        return builder;
    }
}
