using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>Adds <see cref="GrpcClientMetricsInterceptor"/> to every client made with <c>AddGrpcClient</c>.</summary>
internal static class GrpcClientMetricsRegistration
{
    public static IServiceCollection AddGrpcClientMetrics(this IServiceCollection services)
    {
        services.TryAddSingleton<GrpcClientMetricsInterceptor>();
        // Each AddGrpcClient configures named options; ConfigureAll reaches every name, including
        // clients registered after this call. Added first, so it measures what the caller waits
        // for, including the interceptors the service adds itself.
        services.ConfigureAll<GrpcClientFactoryOptions>(o => o.InterceptorRegistrations.Add(
            new InterceptorRegistration(InterceptorScope.Channel, sp => sp.GetRequiredService<GrpcClientMetricsInterceptor>())));
        return services;
    }
}
