using MeshBulkheads.ServiceDefaults.Grpc;
using System.Net;
using Grpc.Health.V1;
using GrpcHealth = Grpc.Health.V1.Health;
using MeshBulkheads.ServiceDefaults.Health;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

[Collection(ProcessMetricsCollection.Name)]
public class ServiceDefaultsHostTests
{
    [Fact]
    public async Task Readyz_WarmupPending_NotReadyButAlive()
    {
        // Arrange
        await using var gated = await GatedHost.StartAsync();
        var (gate, admin, health) = (gated.Gate, gated.Admin, gated.Health);
        var ct = TestContext.Current.CancellationToken;

        // Act
        using var ready = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), ct);
        using var live = await admin.GetAsync(new Uri("/healthz", UriKind.Relative), ct);
        var grpcLive = await health.CheckAsync(new HealthCheckRequest { Service = ServiceDefaultsExtensions.LivenessService }, cancellationToken: ct);
        var grpcReady = await health.CheckAsync(new HealthCheckRequest { Service = ServiceDefaultsExtensions.ReadinessService }, cancellationToken: ct);

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, grpcLive.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, grpcReady.Status);
        gate.Release();
    }

    [Fact]
    public async Task Readyz_WarmupDone_Ready()
    {
        // Arrange
        await using var gated = await GatedHost.StartAsync();
        var (gate, admin, health) = (gated.Gate, gated.Admin, gated.Health);
        var ct = TestContext.Current.CancellationToken;

        // Act
        gate.Release();
        await WaitUntilReadyAsync(gated.Host.Services.GetRequiredService<ReadinessState>());
        using var ready = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), ct);
        var grpcDefault = await health.CheckAsync(new HealthCheckRequest(), cancellationToken: ct);

        // Assert
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, grpcDefault.Status);
    }

    [Fact]
    public async Task Stop_Requested_ReadinessGoesFalseBeforeKestrelStops()
    {
        // Arrange
        var gate = new GatedWarmup();
        gate.Release();
        var host = await KestrelHost.StartAsync(BuildWith(gate));
        var state = host.Services.GetRequiredService<ReadinessState>();
        await WaitUntilReadyAsync(state);

        // Act
        await host.DisposeAsync();

        // Assert
        Assert.False(state.IsReady);
        Assert.Equal("stopping", state.Reason);
    }

    [Fact]
    public async Task AdminPort_NonAdminPath_NotFound()
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(BuildWith(new GatedWarmup()));
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await admin.GetAsync(new Uri("/grpc.health.v1.Health/Check", UriKind.Relative), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/metrics", HttpStatusCode.NotFound)]
    [InlineData("/healthz", HttpStatusCode.NotFound)]
    [InlineData("/readyz", HttpStatusCode.ServiceUnavailable)]
    public async Task GrpcPort_AdminPaths_OnlyReadyzServedOverHttp2(string path, HttpStatusCode expected)
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(BuildWith(new GatedWarmup()));
        using var client = new HttpClient
        {
            BaseAddress = host.Endpoints.Grpc,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        // Act
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterStart_ExportsThreadPoolLagAndRpcDuration()
    {
        // Arrange
        await using var gated = await GatedHost.StartAsync(released: true);
        var (admin, health) = (gated.Admin, gated.Health);
        var ct = TestContext.Current.CancellationToken;
        await health.CheckAsync(new HealthCheckRequest { Service = ServiceDefaultsExtensions.LivenessService }, cancellationToken: ct);

        // Act: the probe ticks every 100 ms and the exporter caches a scrape briefly; poll (bounded)
        // until one scrape shows everything expected.
        string[] expected =
        [
            "meshbulkheads_threadpool_lag_seconds_bucket",
            "meshbulkheads_rpc_server_duration_seconds_count{",
            "rpc_grpc_status_code=\"OK\"",
            "rpc_method=\"Check\"",
        ];
        var text = string.Empty;
        // Bounded by time, not a count of polls: a loaded CI machine missed the lag series within 100 polls (≈ 5.5 s).
        var until = TimeProvider.System.GetTimestamp() + (20 * TimeProvider.System.TimestampFrequency);
        while (TimeProvider.System.GetTimestamp() < until && !expected.All(e => text.Contains(e, StringComparison.Ordinal)))
        {
            text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct);
            await Task.Delay(50, ct);
        }

        // Assert
        Assert.Contains("meshbulkheads_threadpool_lag_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("meshbulkheads_rpc_server_duration_seconds_count{", text, StringComparison.Ordinal);
        Assert.Contains("rpc_grpc_status_code=\"OK\"", text, StringComparison.Ordinal);
        Assert.Contains("rpc_method=\"Check\"", text, StringComparison.Ordinal);
    }

    private static async Task WaitUntilReadyAsync(ReadinessState state)
    {
        for (var i = 0; i < 500 && !state.IsReady; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(state.IsReady, state.Reason);
    }

    private static Func<string[], Action<WebApplicationBuilder>?, WebApplication> BuildWith(GatedWarmup warmup) =>
        (args, configure) =>
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddServiceDefaults("test", 0, 0);
            builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor());
            builder.Services.AddSingleton<IWarmup>(warmup);
            configure?.Invoke(builder);
            var app = builder.Build();
            app.MapDefaultEndpoints();
            return app;
        };

    /// <summary>A host whose warm-up waits on a gate, with an admin client and a gRPC health client.</summary>
    private sealed class GatedHost(GatedWarmup gate, KestrelHost host) : IAsyncDisposable
    {
        public GatedWarmup Gate => gate;

        public KestrelHost Host => host;

        public HttpClient Admin { get; } = host.CreateAdminClient();

        public GrpcHealth.HealthClient Health { get; } = new(host.CreateChannel());

        /// <param name="released">Open the gate before the host starts (warm-up done at once).</param>
        public static async Task<GatedHost> StartAsync(bool released = false)
        {
            var gate = new GatedWarmup();
            if (released)
            {
                gate.Release();
            }

            return new GatedHost(gate, await KestrelHost.StartAsync(BuildWith(gate)));
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await host.DisposeAsync();
        }
    }

    private sealed class GatedWarmup : IWarmup
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        public Task WarmUpAsync(CancellationToken cancellationToken) => _gate.Task.WaitAsync(cancellationToken);
    }
}
