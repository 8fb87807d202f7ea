using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Grpc;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Reporting;

/// <summary>Builds the reporting host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class ReportingApp
{
    public const string ServiceName = "reporting";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        MeshHost.BuildGrpcService<ReportingGrpcService>(
            args,
            ServiceName,
            defaultGrpcPort: 8082,
            defaultAdminPort: 9082,
            s => s.AddReporting(),
            configure,
            // Resolve the fan-out now: the bulkheads (and their gauges) exist from start-up, not from the first report.
            onBuilt: app => _ = app.Services.GetRequiredService<ReportFanOut>());
}
