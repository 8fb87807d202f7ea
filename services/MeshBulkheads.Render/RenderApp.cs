namespace MeshBulkheads.Render;

/// <summary>Builds the render host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class RenderApp
{
    public const string ServiceName = "render";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8083, defaultAdminPort: 9083);
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGrpcReflectionService();
        return app;
    }
}
