using MeshBulkheads.ServiceDefaults.Hosting;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Render.Grpc;
using MeshBulkheads.Render.Workers;

namespace MeshBulkheads.Render;

/// <summary>Builds the render host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class RenderApp
{
    public const string ServiceName = "render";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(RenderApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8083, defaultAdminPort: 9083);
        builder.Services.AddRenderServices();
        builder.Services.AddGrpc(o => o.AddMeshInterceptors());
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Resolve the dispatcher now: the worker threads start and the gauges are published with the
        // host, not on the first request.
        _ = app.Services.GetRequiredService<RenderDispatcher>();
        app.MapDefaultEndpoints();
        app.MapGrpcService<RenderGrpcService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
