using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's telemetry feature (<c>Telemetry/</c>).</summary>
public static class GatewayTelemetryBuilderExtensions
{
    /// <summary>The gateway's metrics (meter <c>MeshBulkheads.Gateway</c>) and the log throttle its features share.</summary>
    public static IReverseProxyBuilder AddGatewayTelemetry(this IReverseProxyBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<GatewayMetrics>();
        builder.Services.TryAddSingleton(sp => new LogThrottle(sp.GetRequiredService<TimeProvider>()));
        return builder;
    }
}
