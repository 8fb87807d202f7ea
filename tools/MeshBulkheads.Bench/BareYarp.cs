using Yarp.ReverseProxy.Configuration;

namespace MeshBulkheads.Bench;

/// <summary>
/// The gateway-cost baseline: YARP with one route and one h2c destination and nothing else (no auth, tenant
/// limit, bulkhead, deadlines, criticality), on the mesh's listeners and OpenTelemetry setup
/// (<c>AddServiceDefaults</c>: Prometheus on the admin port, tracing at <c>Mesh:Tracing:SamplingRatio</c>, OTLP
/// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), so the difference to the gateway is the gateway's features.
/// <c>Bench:Destination</c> is the backend (default payments, <c>http://127.0.0.1:8081</c>); ports are
/// <c>Mesh:GrpcPort</c>/<c>Mesh:AdminPort</c> (default 8090/9090).
/// </summary>
internal static class BareYarp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.AddServiceDefaults("bare-yarp", defaultGrpcPort: 8090, defaultAdminPort: 9090);
        // The gRPC health service of MapDefaultEndpoints needs AddGrpc; no interceptor is added. Unknown services
        // go to YARP, not to grpc-dotnet's UNIMPLEMENTED fallback endpoints.
        builder.Services.AddGrpc(o => o.IgnoreUnknownServices = true);
        var destination = builder.Configuration["Bench:Destination"] ?? "http://127.0.0.1:8081";
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "/{**catch-all}" } }],
            [new ClusterConfig
            {
                ClusterId = "backend",
                // h2c to the backend: without RequestVersionExact YARP sends HTTP/1.1 and relays a 400.
                HttpRequest = new() { Version = new Version(2, 0), VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                Destinations = new Dictionary<string, DestinationConfig> { ["d1"] = new() { Address = destination } },
            }]);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapReverseProxy();
        await app.RunAsync();
        return 0;
    }
}
