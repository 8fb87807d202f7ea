namespace MeshBulkheads.Gateway;

/// <summary>Builds the gateway host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class GatewayApp
{
    public const string ServiceName = "gateway";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8080, defaultAdminPort: 9080);
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGrpcReflectionService();
        return app;
    }
}
