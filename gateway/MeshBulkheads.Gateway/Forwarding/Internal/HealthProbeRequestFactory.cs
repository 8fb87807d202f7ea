using MeshBulkheads.ServiceDefaults.Telemetry;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// YARP's own probing request, marked as a health probe so the HttpClient instrumentation records no
/// span for it: each probe would otherwise be a root client span (GET …/readyz) every few seconds per destination.
/// </summary>
internal sealed class HealthProbeRequestFactory(IProbingRequestFactory inner) : IProbingRequestFactory
{
    /// <summary>Moves YARP's factory behind this one.</summary>
    public static void Register(IServiceCollection services)
    {
        var yarp = services.Last(d => d.ServiceType == typeof(IProbingRequestFactory) && !d.IsKeyedService);
        var yarpType = yarp.ImplementationType
            ?? throw new InvalidOperationException("AddReverseProxy no longer registers IProbingRequestFactory as a type; update HealthProbeRequestFactory.Register.");
        services.Remove(yarp);
        services.AddSingleton<IProbingRequestFactory>(sp => new HealthProbeRequestFactory((IProbingRequestFactory)ActivatorUtilities.CreateInstance(sp, yarpType)));
    }

    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination) =>
        MeshTelemetry.MarkHealthProbe(inner.CreateRequest(cluster, destination));
}
