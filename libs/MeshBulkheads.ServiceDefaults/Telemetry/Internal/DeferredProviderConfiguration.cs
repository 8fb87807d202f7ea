using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>
/// Provider settings read from the service provider when the provider is built: configuration
/// sources added after <c>AddServiceDefaults</c> (tests, a host's <c>configure</c> callback) count.
/// </summary>
internal static class DeferredProviderConfiguration
{
    public static MeterProviderBuilder Deferred(this MeterProviderBuilder builder, Action<IServiceProvider, MeterProviderBuilder> configure) =>
        builder is IDeferredMeterProviderBuilder deferred
            ? deferred.Configure(configure)
            : throw new InvalidOperationException("The meter provider builder does not support deferred configuration.");

    public static TracerProviderBuilder Deferred(this TracerProviderBuilder builder, Action<IServiceProvider, TracerProviderBuilder> configure) =>
        builder is IDeferredTracerProviderBuilder deferred
            ? deferred.Configure(configure)
            : throw new InvalidOperationException("The tracer provider builder does not support deferred configuration.");
}
