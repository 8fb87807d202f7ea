namespace MeshBulkheads.Payments;

/// <summary>Builds the payments host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class PaymentsApp
{
    public const string ServiceName = "payments";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8081, defaultAdminPort: 9081);
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGrpcReflectionService();
        return app;
    }
}
