using MeshBulkheads.Contracts.Render.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace MeshBulkheads.Render.Tests;

/// <summary>Shed and failed renders are logged through <c>RenderLog</c>, by event name and level.</summary>
public sealed class RenderLogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Render_QueueFull_LogsRenderShedAtDebugWithTheResult()
    {
        // Arrange: one worker held by a gated render, no queue: the next render is shed.
        using var observer = new RecordingRenderObserver(gated: true);
        await using var host = await StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "0" });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());
        var running = client.RenderAsync(RenderTestHost.Small, cancellationToken: Ct);
        await observer.FirstStarted.Task.DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(RenderTestHost.Small, cancellationToken: Ct).ResponseAsync);
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        var shed = Assert.Single(Lines(host, "RenderShed"));
        Assert.Equal(LogLevel.Debug, shed.Level);
        Assert.Contains(shed.StructuredState!, kv => kv.Key == "Result" && kv.Value == "queue_full");
        Assert.Contains(shed.StructuredState!, kv => kv.Key == "Bulkhead" && kv.Value == "render");
        Assert.Empty(Lines(host, "RenderFailed"));
    }

    [Fact]
    public async Task Render_JobThrows_LogsRenderFailedAtErrorWithTheException()
    {
        // Arrange: the observer throws where the render would start, as a broken render would.
        await using var host = await StartAsync(new ThrowingObserver(), []);
        var client = new RenderService.RenderServiceClient(host.CreateChannel());

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(RenderTestHost.Small, cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        var failed = Assert.Single(Lines(host, "RenderFailed"));
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.IsType<InvalidOperationException>(failed.Exception);
        Assert.Empty(Lines(host, "RenderShed"));
    }

    [Fact]
    public async Task Render_TenantBudgetSpent_LogsRenderBudgetExhaustedAtDebug()
    {
        // Arrange: the burst holds exactly one largest valid render (256 × 256 × 200) and the budget refills
        // 1 work unit per second: after one maximal render the tenant's next render is refused.
        using var observer = new RecordingRenderObserver();
        await using var host = await StartAsync(observer, new()
        {
            ["Render:MaxWidth"] = "256",
            ["Render:MaxHeight"] = "256",
            ["Render:MaxPixels"] = "65536",
            ["Render:MaxIterations"] = "200",
            ["Render:TenantWorkBudget:WorkUnitsPerSecond"] = "1",
        });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());
        var headers = new Metadata { { "x-tenant-id", "acme" } };
        await client.RenderAsync(new RenderRequest { Width = 256, Height = 256, Iterations = 200 }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(RenderTestHost.Small, headers, cancellationToken: Ct).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var refused = Assert.Single(Lines(host, "RenderBudgetExhausted"));
        Assert.Equal(LogLevel.Debug, refused.Level);
        Assert.Contains(refused.StructuredState!, kv => kv.Key == "Tenant" && kv.Value == "acme");
        Assert.Equal(1, observer.Started);
    }

    private static Task<KestrelHost> StartAsync(IRenderJobObserver observer, Dictionary<string, string?> configuration)
    {
        // KestrelHost logs at Warning by default; the render service's own lines are wanted down to Debug.
        configuration["Logging:LogLevel:MeshBulkheads.Render"] = "Debug";
        return KestrelHost.StartAsync(RenderApp.Build, configuration, b =>
        {
            b.Services.AddSingleton(observer);
            b.Services.AddFakeLogging();
        });
    }

    private static List<FakeLogRecord> Lines(KestrelHost host, string eventName) =>
        [.. host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Name == eventName)];

    private sealed class ThrowingObserver : IRenderJobObserver
    {
        public void OnJobQueued(RenderParameters parameters)
        {
        }

        public void OnJobStarting(RenderParameters parameters) => throw new InvalidOperationException("broken render");
    }
}
