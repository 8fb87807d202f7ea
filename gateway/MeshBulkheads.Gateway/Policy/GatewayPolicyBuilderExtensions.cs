using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Policy.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's traffic policy (<c>Policy/</c>), which rate limiting and deadlines read.</summary>
public static class GatewayPolicyBuilderExtensions
{
    /// <summary>
    /// Section <c>Gateway</c> (tiers, route costs, unauthenticated limit) as <see cref="GatewayPolicyOptions"/>, validated
    /// at start, and <see cref="GatewayPolicyMonitor"/>, which validates reloads. Safe to call more than once.
    /// </summary>
    public static IReverseProxyBuilder AddGatewayPolicy(this IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(GatewayPolicyMonitor)))
        {
            return builder;
        }

        // Bound without a change-token source: reloads go through GatewayPolicyMonitor, which
        // validates them, keeps the last good policy on failure and counts the failure.
        services.AddOptions<GatewayPolicyOptions>()
            .Configure<IConfiguration>((o, c) => c.GetSection(GatewayPolicyOptions.SectionName).Bind(o))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayPolicyOptions>, GatewayPolicyOptionsValidator>());
        services.AddSingleton<GatewayPolicyMonitor>();
        return builder;
    }
}
