using ProtoServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Grpc.Reflection;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;

namespace MeshBulkheads.Gateway.Reflection;

/// <summary>
/// gRPC server reflection (v1 and v1alpha) for the services behind the gateway, served by the
/// gateway itself without an API key, so <c>grpcurl -plaintext 127.0.0.1:8080 list</c> and
/// <c>describe</c> work. The gateway does not implement the services: the reflection database is
/// built from the contract descriptors, not from mapped endpoints (which is what
/// <c>AddGrpcReflection()</c> would list).
/// </summary>
public static class GatewayReflection
{
    /// <summary>The services the gateway describes: the three backends, health and reflection itself.</summary>
    public static IReadOnlyList<ProtoServiceDescriptor> Services { get; } =
    [
        PaymentsService.Descriptor,
        ReportingService.Descriptor,
        RenderService.Descriptor,
        Grpc.Health.V1.Health.Descriptor,
        Grpc.Reflection.V1.ServerReflection.Descriptor,
        Grpc.Reflection.V1Alpha.ServerReflection.Descriptor,
    ];

    /// <summary>Registers both reflection services over <see cref="Services"/>.</summary>
    public static IServiceCollection AddGatewayReflection(this IServiceCollection services)
    {
        // Grpc.Reflection 2.85 ships both versions; their messages are identical, only the package differs.
        services.AddSingleton(new ReflectionServiceImpl(Services));
        services.AddSingleton(new ReflectionV1ServiceImpl(Services));
        return services;
    }

    /// <summary>Maps both reflection services (endpoints of their own, outside the YARP routes).</summary>
    public static IEndpointRouteBuilder MapGatewayReflection(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<ReflectionServiceImpl>();
        endpoints.MapGrpcService<ReflectionV1ServiceImpl>();
        return endpoints;
    }
}
