using System.Diagnostics;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// A service-level bulkhead rejection travels through YARP as a Trailers-Only response, so a
/// grpc-dotnet client with a retry policy honours its pushback: it waits, retries, and succeeds.
/// </summary>
public class PushbackThroughGatewayTests
{
    [Fact]
    public async Task ServiceRejection_ThroughGateway_RetriedAfterPushbackAndSucceeds()
    {
        // Arrange: a render-shaped backend whose bulkhead has one permit and no queue, behind the real gateway.
        var backend = new GatedRenderService();
        await using var service = await KestrelHost.StartAsync(BuildGatedBackend(backend));
        await using var gateway = await KestrelHost.StartAsync(GatewayApp.Build, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:render:Destinations:d1:Address"] = service.Endpoints.Grpc.ToString(),
        });
        using var rejections = Measurements.BulkheadRequestsOf(service);
        var plain = new RenderService.RenderServiceClient(gateway.CreateChannel());
        // Two attempts and a 10 ms backoff: only a client that waits the server's pushback (not its own
        // backoff) retries after the permit is free again.
        var retrying = new RenderService.RenderServiceClient(gateway.CreateChannel(RetryingChannel.Options(StatusCode.Unavailable, maxAttempts: 2, TimeSpan.FromMilliseconds(10))));

        // The first call takes the only permit and holds it.
        var holder = plain.RenderAsync(new RenderRequest(), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync;
        await backend.Entered.Task.DefaultTimeout();

        // A second call without retries sees the rejection and its pushback.
        var rejected = await Assert.ThrowsAsync<RpcException>(() => plain.RenderAsync(new RenderRequest(), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);
        var pushbackMs = int.Parse(rejected.Trailers.GetValue("grpc-retry-pushback-ms")!, CultureInfo.InvariantCulture);

        // Act: a retrying call is rejected once; as soon as that rejection is counted, free the permit.
        var rejectedSoFar = CountQueueFull(rejections);
        var stopwatch = Stopwatch.StartNew();
        var retried = retrying.RenderAsync(new RenderRequest(), InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync;
        while (CountQueueFull(rejections) == rejectedSoFar)
        {
            await rejections.WaitForMeasurementsAsync(rejections.GetMeasurementSnapshot().Count + 1, TestContext.Current.CancellationToken).DefaultTimeout();
        }

        backend.Release();
        var response = await retried.DefaultTimeout();
        stopwatch.Stop();
        await holder.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, rejected.StatusCode);
        Assert.Equal("queue-full", rejected.Trailers.GetValue("x-mesh-reject-reason"));
        Assert.InRange(pushbackMs, 1, 30_000);
        Assert.Equal("retried", response.Sha256);
        Assert.Equal(2, backend.HandlerEntries);
        // The retry came after (roughly) the pushback, not after the client's own 10 ms backoff.
        Assert.True(stopwatch.ElapsedMilliseconds >= pushbackMs * 0.8, $"retried after {stopwatch.ElapsedMilliseconds} ms; pushback was {pushbackMs} ms");
    }

    private static long CountQueueFull(MetricCollector<long> collector) => Measurements.Ended(collector, "render", "queue_full");

    private static Func<string[], Action<WebApplicationBuilder>?, WebApplication> BuildGatedBackend(GatedRenderService backend) =>
        (args, configure) =>
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddServiceDefaults("gated-render", 0, 0);
            // It stands in for render behind the gateway, so it verifies render's tokens.
            builder.Services.AddMeshIdentity("render");
            builder.Services.AddSingleton(backend);
            builder.Services.AddBulkheads()
                .AddBulkhead("render", o =>
                {
                    o.PermitLimit = 1;
                    o.QueueLimit = 0;
                    o.MaxQueueTime = TimeSpan.FromSeconds(1);
                    o.CongestionThreshold = TimeSpan.FromMilliseconds(100);
                })
                .MapMethods("/meshbulkheads.render.v1.RenderService/", "render");
            builder.Services.AddGrpc(o => o.AddMeshInterceptors());
            configure?.Invoke(builder);
            var app = builder.Build();
            app.MapDefaultEndpoints();
            app.MapGrpcService<GatedRenderService>();
            return app;
        };

    /// <summary>Holds the first call until released; later calls answer at once.</summary>
    public sealed class GatedRenderService : RenderService.RenderServiceBase
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _entries;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int HandlerEntries => Volatile.Read(ref _entries);

        public void Release() => _gate.TrySetResult();

        public override async Task<RenderResponse> Render(RenderRequest request, ServerCallContext context)
        {
            if (Interlocked.Increment(ref _entries) == 1)
            {
                Entered.TrySetResult();
                await _gate.Task.WaitAsync(context.CancellationToken);
                return new RenderResponse { Sha256 = "held" };
            }

            return new RenderResponse { Sha256 = "retried" };
        }
    }
}
