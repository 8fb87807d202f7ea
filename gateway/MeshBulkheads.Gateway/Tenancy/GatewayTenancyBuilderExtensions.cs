using MeshBulkheads.Gateway.Tenancy;
using MeshBulkheads.Gateway.Tenancy.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's tenancy (<c>Tenancy/</c>): who a caller is, from its API key.</summary>
public static class GatewayTenancyBuilderExtensions
{
    /// <summary><c>Gateway:Tenants</c> and <c>Gateway:ApiKeysFile</c> as <see cref="GatewayTenancyOptions"/>, validated at start, and the authenticator.</summary>
    public static IReverseProxyBuilder AddGatewayTenancy(this IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<GatewayTenancyOptions, GatewayTenancyOptionsValidator>(GatewayTenancyOptions.SectionName);
        services.AddSingleton<IPostConfigureOptions<GatewayTenancyOptions>, ApiKeysFileLoader>();
        services.AddSingleton<ApiKeyAuthenticator>();
        // Added to the gateway's own gRPC services (GatewayApp): one instance for every call.
        services.AddSingleton<UnauthenticatedStreamInterceptor>();
        // The file is watched: a change rebuilds the options (and the key table) like a configuration reload.
        services.AddSingleton<ApiKeysFileWatcher>();
        services.AddSingleton<IOptionsChangeTokenSource<GatewayTenancyOptions>>(sp => sp.GetRequiredService<ApiKeysFileWatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<ApiKeysFileWatcher>());
        return builder;
    }
}
