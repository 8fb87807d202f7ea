using MeshBulkheads.Gateway.Deadlines;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's deadlines (<c>Deadlines/</c>).</summary>
public static class GatewayDeadlinesBuilderExtensions
{
    /// <summary>
    /// The deadline policy the gateway's deadline middlewares read: the shared library's resolver with the
    /// services' table as code defaults (<c>Deadlines:*</c> in configuration overrides each value), and the gateway policy.
    /// </summary>
    public static IReverseProxyBuilder AddGatewayDeadlines(this IReverseProxyBuilder builder)
    {
        builder.Services.AddBulkheads().AddGatewayDeadlineDefaults();
        builder.AddGatewayPolicy();
        return builder;
    }
}
