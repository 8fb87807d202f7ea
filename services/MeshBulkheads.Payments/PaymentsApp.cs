using MeshBulkheads.Payments.Api;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Payments;

/// <summary>Builds the payments host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class PaymentsApp
{
    public const string ServiceName = "payments";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        MeshHost.BuildGrpcService<PaymentsService>(args, ServiceName, defaultGrpcPort: 8081, defaultAdminPort: 9081, s => s.AddPayments(), configure);
}
