using MeshBulkheads.ServiceDefaults.Identity;
using MeshBulkheads.ServiceDefaults.Identity.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a service's side of the mesh identity: its keys (<c>Mesh:Identity</c>) and audience.</summary>
public static class MeshIdentityServiceCollectionExtensions
{
    /// <summary>
    /// Binds <c>Mesh:Identity</c> (validated at start: a service without keys does not start) with
    /// <paramref name="audience"/> as the audience its <see cref="MeshIdentityInterceptor"/> verifies.
    /// </summary>
    public static IServiceCollection AddMeshIdentity(this IServiceCollection services, string audience)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<MeshIdentityOptions, MeshIdentityOptionsValidator>(MeshIdentityOptions.SectionName)
            .Configure(o => o.Audience = audience);
        return services;
    }
}
