namespace MeshBulkheads.AppHost;

/// <summary>How the AppHost wires a MeshBulkheads host: its ports, readiness and peers.</summary>
internal static class MeshResourceExtensions
{
    /// <summary>
    /// Gives a host its fixed ports through <c>Mesh__GrpcPort</c>/<c>Mesh__AdminPort</c> (the hosts call
    /// Kestrel's Listen themselves) and declares them to Aspire as not proxied: the ports stay the
    /// documented ones, and h2c does not go through Aspire's endpoint proxy. Readiness is the admin
    /// port's <c>/readyz</c>, so <c>WaitFor</c> waits until the host is warm, not merely started.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMeshPorts(this IResourceBuilder<ProjectResource> project, MeshPorts ports) =>
        project
            .WithEndpoint(port: ports.Grpc, targetPort: ports.Grpc, scheme: "http", name: "grpc", env: "Mesh__GrpcPort", isProxied: false)
            .WithEndpoint("grpc", e => e.Transport = "http2")
            .WithEndpoint(port: ports.Admin, targetPort: ports.Admin, scheme: "http", name: "admin", env: "Mesh__AdminPort", isProxied: false)
            .WithEnvironment("Mesh__BindAddress", "127.0.0.1")
            // The local mesh is the development profile: demo tenants and keys, payments' demo seeding.
            .WithEnvironment("DOTNET_ENVIRONMENT", "Development")
            .WithHttpHealthCheck("/readyz", endpointName: "admin");

    /// <summary>Points the gateway's YARP cluster <paramref name="cluster"/> at a service's gRPC port.</summary>
    public static IResourceBuilder<ProjectResource> WithClusterDestination(
        this IResourceBuilder<ProjectResource> gateway, string cluster, MeshPorts service) =>
        gateway.WithEnvironment($"ReverseProxy__Clusters__{cluster}__Destinations__d1__Address", service.GrpcAddress);

    /// <summary>Gives a service its own identity key (<c>Mesh:Identity:Keys:dev</c>): it can verify its tokens, not mint another's.</summary>
    public static IResourceBuilder<ProjectResource> WithIdentityKey(
        this IResourceBuilder<ProjectResource> service, MeshAppHostSettings settings, string audience) =>
        service.WithEnvironment($"Mesh__Identity__Keys__{MeshAppHostSettings.IdentityKeyId}", settings.IdentityKeys[audience]);

    /// <summary>Gives the gateway every service's key (<c>Gateway:Identity:Keys:&lt;service&gt;:dev</c>) and signs with them.</summary>
    public static IResourceBuilder<ProjectResource> WithSigningKeys(this IResourceBuilder<ProjectResource> gateway, MeshAppHostSettings settings)
    {
        gateway.WithEnvironment("Gateway__Identity__SigningKeyId", MeshAppHostSettings.IdentityKeyId);
        foreach (var (audience, key) in settings.IdentityKeys)
        {
            gateway.WithEnvironment($"Gateway__Identity__Keys__{audience}__{MeshAppHostSettings.IdentityKeyId}", key);
        }

        return gateway;
    }

    /// <summary>The admin token for admin writes (<c>Mesh:Admin:Token</c>), the same for every host of the run.</summary>
    public static IResourceBuilder<ProjectResource> WithAdminToken(this IResourceBuilder<ProjectResource> project, MeshAppHostSettings settings) =>
        project.WithEnvironment("Mesh__Admin__Token", settings.AdminToken);
}
