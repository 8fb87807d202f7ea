using MeshBulkheads.Gateway.ClientSources;
using MeshBulkheads.Gateway.ClientSources.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers who the gateway believes about client addresses (<c>ClientSources/</c>).</summary>
public static class GatewayClientSourcesBuilderExtensions
{
    /// <summary><c>Gateway:ForwardedHeaders</c>, validated at start, as ASP.NET Core's forwarded headers options.</summary>
    public static IReverseProxyBuilder AddGatewayClientSources(this IReverseProxyBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<GatewayForwardedHeadersOptions, GatewayForwardedHeadersOptionsValidator>(GatewayForwardedHeadersOptions.SectionName);
        services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>, ForwardedHeadersOptionsSetup>();
        return builder;
    }
}
