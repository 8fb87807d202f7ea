using MeshBulkheads.Render.Grpc;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Render;

/// <summary>Builds the render host; tests call <see cref="Build"/> with their own configuration.</summary>
/// <remarks>The dispatcher, its worker threads and gauges are created at host start (RenderWorkersStartup).</remarks>
public static class RenderApp
{
    public const string ServiceName = "render";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        MeshHost.BuildGrpcService<RenderGrpcService>(args, ServiceName, defaultGrpcPort: 8083, defaultAdminPort: 9083, s => s.AddRender(), configure);
}
