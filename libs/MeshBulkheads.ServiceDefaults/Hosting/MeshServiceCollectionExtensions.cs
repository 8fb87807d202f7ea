using Grpc.AspNetCore.Server;
using MeshBulkheads.ServiceDefaults.Grpc;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>What every mesh service (payments, reporting, render) registers the same way; the gateway, a proxy, has its own.</summary>
public static class MeshServiceCollectionExtensions
{
    /// <summary>
    /// The service's section <paramref name="sectionName"/> as <typeparamref name="TOptions"/>, validated at start
    /// (<see cref="ValidatedOptionsExtensions.AddValidatedOptions"/>), and its gRPC server: the mesh interceptors in
    /// their declared order (<see cref="MeshInterceptors.AddMeshInterceptors"/>, the service's
    /// <paramref name="requestChecks"/> in their slot), the receive limit, and reflection (mapped by
    /// <c>MeshHost.BuildGrpcService</c>).
    /// </summary>
    /// <typeparam name="TOptions">The service's options.</typeparam>
    /// <typeparam name="TValidator">Their validator.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="sectionName">The service's configuration section.</param>
    /// <param name="receiveMessageKb">
    /// The receive limit in KB from the service's options (<see cref="GrpcMessageLimits.LimitReceiveMessageKb"/>, docs/sizing.md):
    /// a constant for fixed-size requests, or derived from a setting such as a maximum count.
    /// </param>
    /// <param name="requestChecks">Adds the service's request-check interceptors, or null.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddMeshService<TOptions, TValidator>(
        this IServiceCollection services,
        string sectionName,
        Func<TOptions, int> receiveMessageKb,
        Action<InterceptorCollection>? requestChecks = null)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(receiveMessageKb);
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<TOptions, TValidator>(sectionName);
        services.AddGrpc(o => o.AddMeshInterceptors(requestChecks));
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<TOptions>>((o, service) => o.LimitReceiveMessageKb(receiveMessageKb(service.Value)));
        services.AddGrpcReflection();
        return services;
    }
}
