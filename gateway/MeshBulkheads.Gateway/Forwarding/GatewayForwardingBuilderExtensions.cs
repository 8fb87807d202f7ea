using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Forwarding.Internal;
using MeshBulkheads.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers how the gateway reaches its backends (<c>Forwarding/</c>).</summary>
public static class GatewayForwardingBuilderExtensions
{
    /// <summary>YARP's <c>TransportFailureRateHealthPolicyOptions</c>, used by <see cref="MeshPassiveHealthPolicy"/>.</summary>
    public const string PassiveHealthSectionName = "Gateway:PassiveHealth";

    /// <summary>
    /// The backend connections (<c>Gateway:Backends</c>, <c>Gateway:Tls</c>), DNS destinations (<c>Gateway:Destinations:Dns</c>), the
    /// active health probe requests (readiness after their first round) and passive health (<c>Gateway:PassiveHealth</c>).
    /// </summary>
    public static IReverseProxyBuilder AddGatewayForwarding(this IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BackendConnectionOptions>()
            .BindConfiguration(BackendConnectionOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackendConnectionOptions>, BackendConnectionOptionsValidator>());
        // Gateway:Tls:BackendCaFile: whom https:// destinations must be issued by.
        services.AddValidatedOptions<BackendTlsOptions, BackendTlsOptionsValidator>(BackendTlsOptions.SectionName);
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>());
        AddDestinationResolver(builder);
        HealthProbeRequestFactory.Register(services);
        // Ready only once every destination has been probed once (its active health no longer Unknown).
        services.AddSingleton<IWarmup, InitialHealthProbeWarmup>();

        // Passive health: YARP's failure-rate policy behind MeshPassiveHealthPolicy's filter, every option
        // explicit. The window equals the clusters' ReactivationPeriod (10 s): YARP raises a shorter
        // reactivation period to the window, whose default is 60 s.
        services.AddSingleton<IPassiveHealthCheckPolicy, MeshPassiveHealthPolicy>();
        services.AddOptions<TransportFailureRateHealthPolicyOptions>()
            .Configure(o =>
            {
                o.DetectionWindowSize = TimeSpan.FromSeconds(10);
                o.MinimalTotalCountThreshold = 10;
                o.DefaultFailureRateLimit = 0.3;
            })
            .BindConfiguration(PassiveHealthSectionName);
        return builder;
    }

    /// <summary>
    /// <c>Gateway:Destinations:Dns</c>: <see cref="GatewayDestinationResolver"/> in place of YARP's DNS resolver, which
    /// stops the host when a name does not resolve yet (a headless Service before its first pod is ready).
    /// </summary>
    private static void AddDestinationResolver(IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DnsDestinationOptions>()
            .BindConfiguration(DnsDestinationOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DnsDestinationOptions>, DnsDestinationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDnsLookup, SystemDnsLookup>();
        services.Replace(ServiceDescriptor.Singleton<IDestinationResolver, GatewayDestinationResolver>());
    }
}
