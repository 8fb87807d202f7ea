using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Render;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>The streaming RPC through the real gateway: routed to render, its route permit long-lived, its deadline enforced.</summary>
public sealed class RenderRowsThroughGatewayTests
{
    // 6 KB rows: a consumer that stops reading stops the producer within a few dozen rows.
    private static readonly RenderRequest BigRows = new() { Width = 2048, Height = 128, Iterations = 1 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RenderRows_ThroughGateway_EveryRowAndRoutePermitEstimateUntouched()
    {
        // Arrange: unary renders teach both bulkheads (the gateway's route bulkhead, render's) their service time.
        await using var mesh = await InProcessMesh.StartAsync(new InProcessMeshSettings().WithAmpleRateLimits());
        var client = new RenderService.RenderServiceClient(mesh.GatewayChannel);
        var route = mesh.Gateway.Services.GetRequiredService<IBulkheadProvider>().Get(RouteBulkheads.NameOf("render"));
        var render = mesh.Render.Services.GetRequiredService<IBulkheadProvider>().Get(RenderBulkheads.Name);
        for (var i = 0; i < 2; i++)
        {
            await client.RenderAsync(new RenderRequest { Width = 16, Height = 16, Iterations = 10 }, InProcessMesh.As(DemoTenants.AcmeKey));
        }

        // The last render's permits are returned (and its service time recorded) after its answer reached the client: read
        // the estimates once both are back, or that last sample lands after the read (a loaded run saw it).
        await WaitUntilAsync(() => route.ActiveCount == 0 && render.ActiveCount == 0);
        var (routeLearned, renderLearned) = (route.EstimateQueueWait(), render.EstimateQueueWait());

        // Act
        using var call = client.RenderRows(BigRows, InProcessMesh.As(DemoTenants.AcmeKey));
        var ys = new List<int>();
        await foreach (var row in call.ResponseStream.ReadAllAsync(Ct))
        {
            ys.Add(row.Y);
        }

        await WaitUntilAsync(() => route.ActiveCount == 0 && render.ActiveCount == 0);

        // Assert
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(Enumerable.Range(0, BigRows.Height), ys);
        Assert.True(routeLearned > TimeSpan.Zero && renderLearned > TimeSpan.Zero);
        Assert.Equal(routeLearned, route.EstimateQueueWait());
        Assert.Equal(renderLearned, render.EstimateQueueWait());
    }

    [Fact]
    public async Task RenderRows_ThroughGatewayConsumerStopsReading_RenderEndsItDeadlineExceededAndPermitsReturned()
    {
        // Arrange: render clamps RenderRows to 800 ms; the caller asks for 5 s, so the gateway forwards the stream and
        // render's answer — DEADLINE_EXCEEDED in the trailers, after the rows already sent — comes long before the
        // caller's own timer. (The caller's deadline keeps grpc-dotnet's own deadline handling at render, which resets
        // a flow-blocked stream, out of the way: see the render README, "RenderRows".)
        const string Prefix = "Deadlines:Methods:/meshbulkheads.render.v1.RenderService/RenderRows";
        var settings = new InProcessMeshSettings().WithAmpleRateLimits();
        settings.Render[Prefix + ":Default"] = "00:00:00.800";
        settings.Render[Prefix + ":Max"] = "00:00:00.800";
        settings.Render["Bulkheads:render:MaxQueueTime"] = "00:00:00.200";
        await using var mesh = await InProcessMesh.StartAsync(settings);
        using var streams = new MetricCollector<long>(mesh.Render.Services.GetRequiredService<IMeterFactory>(), RenderMetrics.MeterName, RenderMetrics.RequestsName);
        var route = mesh.Gateway.Services.GetRequiredService<IBulkheadProvider>().Get(RouteBulkheads.NameOf("render"));
        var render = mesh.Render.Services.GetRequiredService<IBulkheadProvider>().Get(RenderBulkheads.Name);
        var client = new RenderService.RenderServiceClient(mesh.GatewayChannel);

        // Act: read one row, then stop reading until render has ended the stream.
        using var call = client.RenderRows(BigRows, InProcessMesh.As(DemoTenants.AcmeKey, TimeSpan.FromSeconds(5)));
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        await streams.WaitForMeasurementsAsync(1, Ct).DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(Ct))
            {
            }
        }).DefaultTimeout();
        await WaitUntilAsync(() => route.ActiveCount == 0 && render.ActiveCount == 0);

        // Assert: render's own message (its 800 ms policy), not the client's "Deadline Exceeded".
        Assert.True(error.StatusCode == StatusCode.DeadlineExceeded, error.Status.ToString());
        Assert.Contains("800 ms", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(MeshTelemetryResults.Deadline, Assert.Single(streams.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.Result]);
    }
}
