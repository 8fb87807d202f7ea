using MeshBulkheads.ServiceDefaults.Hosting;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Grpc;

namespace MeshBulkheads.Reporting;

/// <summary>Builds the reporting host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class ReportingApp
{
    public const string ServiceName = "reporting";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(ReportingApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8082, defaultAdminPort: 9082);
        builder.Services.AddReportingServices();
        builder.Services.AddGrpc(o => o.AddMeshInterceptors());
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Resolve the fan-out now: the bulkheads (and their gauges) exist from start-up, not from the first report.
        _ = app.Services.GetRequiredService<ReportFanOut>();
        app.MapDefaultEndpoints();
        app.MapGrpcService<ReportingGrpcService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
