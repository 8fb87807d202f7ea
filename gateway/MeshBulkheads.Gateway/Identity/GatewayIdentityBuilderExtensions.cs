using MeshBulkheads.Gateway.Identity;
using MeshBulkheads.Gateway.Identity.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's identity signing (<c>Gateway:Identity</c>, validated at start).</summary>
public static class GatewayIdentityBuilderExtensions
{
    /// <summary>Adds <see cref="GatewayIdentityOptions"/> and the <see cref="GatewayIdentitySigner"/> that <see cref="IdentityMiddleware"/> uses.</summary>
    public static IReverseProxyBuilder AddGatewayIdentity(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<GatewayIdentityOptions, GatewayIdentityOptionsValidator>(GatewayIdentityOptions.SectionName);
        builder.Services.AddSingleton<GatewayIdentitySigner>();
        return builder;
    }
}
