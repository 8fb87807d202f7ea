using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Render.Workers;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.Render.Tests.Workers;

public class RenderWorkerPoolTests
{
    private static readonly RenderRequest Small = new() { Width = 32, Height = 32, Iterations = 20 };

    private static Task<KestrelHost> StartAsync(RecordingRenderObserver observer, Dictionary<string, string?> configuration) =>
        KestrelHost.StartAsync(RenderApp.Build, configuration, b => b.Services.AddSingleton<IRenderJobObserver>(observer));

    [Fact]
    public async Task Render_QueueFull_UnavailableWithReasonAndPushback()
    {
        // Arrange: one worker held on a gate, one job queued: the queue (limit 1) is full.
        using var observer = new RecordingRenderObserver(gated: true);
        await using var host = await StartAsync(observer, new() { ["Render:Workers"] = "1", ["Render:QueueLimit"] = "1" });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());
        var ct = TestContext.Current.CancellationToken;
        var running = client.RenderAsync(Small, cancellationToken: ct);
        await observer.FirstStarted.Task.DefaultTimeout();
        var queued = client.RenderAsync(Small, cancellationToken: ct);
        await observer.WhenQueuedAsync(2).DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(Small, cancellationToken: ct).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("queue is full", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("queue-full", error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.True(int.TryParse(error.Trailers.GetValue(MeshMetadata.RetryPushbackMs), out var pushbackMs) && pushbackMs > 0);

        observer.Release();
        await running.ResponseAsync.DefaultTimeout();
        await queued.ResponseAsync.DefaultTimeout();
        Assert.Equal(2, observer.Started);
    }

    [Fact]
    public async Task Render_CancelledWhileQueued_NeverStarts()
    {
        // Arrange
        using var observer = new RecordingRenderObserver(gated: true);
        await using var host = await StartAsync(observer, new() { ["Render:Workers"] = "1", ["Render:QueueLimit"] = "4" });
        using var jobs = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RenderMetrics.MeterName, "meshbulkheads.render.jobs");
        var client = new RenderService.RenderServiceClient(host.CreateChannel());
        var ct = TestContext.Current.CancellationToken;
        var running = client.RenderAsync(Small, cancellationToken: ct);
        await observer.FirstStarted.Task.DefaultTimeout();
        using var cancel = new CancellationTokenSource();
        var doomed = client.RenderAsync(Small, cancellationToken: cancel.Token);
        await observer.WhenQueuedAsync(2).DefaultTimeout();

        // Act
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => doomed.ResponseAsync);
        // The server learns of the cancellation asynchronously (RST_STREAM): wait for its count.
        await jobs.WaitForMeasurementsAsync(1, ct).DefaultTimeout();
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();
        // A later job runs after the cancelled one's queue position has been passed.
        await client.RenderAsync(Small, cancellationToken: ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal(2, observer.Started);
        var canceled = Assert.Single(jobs.GetMeasurementSnapshot(), m => m.Tags[RenderMetrics.ResultTagName] as string == RenderMetrics.ResultCanceled);
        Assert.Equal(1, canceled.Value);
        Assert.Equal(0, host.Services.GetRequiredService<RenderWorkerPool>().QueueDepth);
    }

    [Fact]
    public async Task Render_Default_RunsOnDedicatedWorkerNotThreadPool()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var host = await StartAsync(observer, new() { ["Render:Workers"] = "2" });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());

        // Act
        await client.RenderAsync(Small, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        var (isThreadPoolThread, threadName) = Assert.Single(observer.StartedOn);
        Assert.False(isThreadPoolThread);
        Assert.StartsWith("render-worker-", threadName, StringComparison.Ordinal);
        Assert.Equal(2, host.Services.GetRequiredService<RenderWorkerPool>().WorkerCount);
    }

    [Fact]
    public async Task Render_InlinePitfallOn_RunsOnThreadPoolThread()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var host = await StartAsync(observer, new() { ["Render:Inline"] = "true" });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());

        // Act
        var response = await client.RenderAsync(Small, cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        var (isThreadPoolThread, _) = Assert.Single(observer.StartedOn);
        Assert.True(isThreadPoolThread);
        Assert.IsType<InlineRenderDispatcher>(host.Services.GetRequiredService<IRenderDispatcher>());
        Assert.NotEmpty(response.Sha256);
    }

    [Fact]
    public async Task Render_Completed_RecordsDurationAndWorkerGauges()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var host = await StartAsync(observer, new() { ["Render:Workers"] = "3" });
        var meterFactory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var duration = new MetricCollector<double>(meterFactory, RenderMetrics.MeterName, "meshbulkheads.render.duration");
        using var limit = new MetricCollector<int>(meterFactory, RenderMetrics.MeterName, "meshbulkheads.render.workers.limit");
        var client = new RenderService.RenderServiceClient(host.CreateChannel());

        // Act
        await client.RenderAsync(Small, cancellationToken: TestContext.Current.CancellationToken);
        await duration.WaitForMeasurementsAsync(1, TestContext.Current.CancellationToken).DefaultTimeout();
        limit.RecordObservableInstruments();

        // Assert
        var measurement = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(RenderMetrics.ResultCompleted, measurement.Tags[RenderMetrics.ResultTagName]);
        Assert.True(measurement.Value >= 0);
        Assert.Equal(3, limit.LastMeasurement?.Value);
    }
}
