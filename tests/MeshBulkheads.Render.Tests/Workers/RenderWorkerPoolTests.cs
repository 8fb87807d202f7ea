using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static MeshBulkheads.Render.Tests.RenderTestHost;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Render.Tests.Workers;

public class RenderWorkerPoolTests
{
    // Long enough that a queued render is never shed by queue time while a test inspects it.
    private const string LongQueueTime = "00:00:09";

    [Fact]
    public async Task Render_QueueFull_UnavailableFromRenderBulkheadWithReasonAndPushback()
    {
        // Arrange: one worker held on a gate, one render queued in the bulkhead: its queue (limit 1) is full.
        using var observer = new RecordingRenderObserver(gated: true);
        await using var render = await StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "1", ["Bulkheads:render:MaxQueueTime"] = LongQueueTime });
        var running = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();
        var queued = render.Render();
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.QueuedCount == 1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => render.Render().ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("Bulkhead 'render' is full", error.Status.Detail, StringComparison.Ordinal);
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
        await using var render = await StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "4", ["Bulkheads:render:MaxQueueTime"] = LongQueueTime });
        using var requests = new MetricCollector<long>(render.Host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        var running = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();
        using var cancel = new CancellationTokenSource();
        var doomed = render.Render(cancel.Token);
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.QueuedCount == 1);

        // Act
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => doomed.ResponseAsync);
        // The server learns of the cancellation asynchronously (RST_STREAM): wait for the bulkhead to drop it.
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.QueuedCount == 0);
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();
        // A later render runs after the cancelled one's queue position has been passed.
        await render.Render().ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal(2, observer.Started);
        Assert.Contains(requests.GetMeasurementSnapshot(), m =>
            m.Tags[BulkheadConstants.BulkheadTag] as string == "render" && m.Tags[BulkheadConstants.ResultTag] as string == BulkheadConstants.Results.Canceled);
        Assert.Equal(0, render.Dispatcher.QueueDepth);
    }

    [Fact]
    public async Task Render_DeadlinePassesWhileQueued_DeadlineExceededAndNeverStarts()
    {
        // Arrange: fake time drives the deadline interceptor and the bulkhead; queue time (20 s) outlasts the caller's 10 s.
        var time = new FakeTimeProvider();
        using var observer = new RecordingRenderObserver(gated: true);
        await using var render = await StartAsync(
            observer,
            new()
            {
                ["Render:WorkerCount"] = "1",
                ["Bulkheads:render:MaxQueueTime"] = "00:00:20",
                ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Default"] = "00:00:30",
                ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Max"] = "00:01:00",
            },
            time);
        var running = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();
        var doomed = render.Render(deadline: DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.QueuedCount == 1);

        // Act
        time.Advance(TimeSpan.FromSeconds(11));
        var error = await Assert.ThrowsAsync<RpcException>(() => doomed.ResponseAsync).DefaultTimeout();
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(1, observer.Started);
        Assert.Equal(0, render.Dispatcher.QueueDepth);
    }

    [Fact]
    public async Task Render_InvalidRequestWhileSaturated_InvalidArgumentNotQueued()
    {
        // Arrange: the only worker is busy and nothing may queue.
        using var observer = new RecordingRenderObserver(gated: true);
        await using var render = await StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "0" });
        var running = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();

        // Act: validation comes before admission, so a bad request is told what is wrong, not to retry.
        var error = await Assert.ThrowsAsync<RpcException>(() => render.Client.RenderAsync(
            new Contracts.Render.V1.RenderRequest { Width = -1 }, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(1, observer.Started);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bulkheads:render:Pitfalls:UnboundedQueue")]
    [InlineData("Mesh:Pitfalls:NoBulkheads")]
    public async Task Render_UnboundedQueuePitfall_OffShedsAtQueueLimitOnAcceptsEverything(string? pitfallSwitch)
    {
        // Arrange: one gated worker, queue limit 2, six renders; the bulkhead's own switch or the mesh-wide one.
        var unbounded = pitfallSwitch is not null;
        using var observer = new RecordingRenderObserver(gated: true);
        var settings = new Dictionary<string, string?>
        {
            ["Render:WorkerCount"] = "1",
            ["Bulkheads:render:QueueLimit"] = "2",
            ["Bulkheads:render:MaxQueueTime"] = LongQueueTime,
        };
        if (pitfallSwitch is not null)
        {
            settings[pitfallSwitch] = "true";
        }

        await using var render = await StartAsync(observer, settings);
        var first = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();

        // Act
        var rest = Enumerable.Range(0, 5).Select(_ => render.Render().ResponseAsync).ToArray();
        var expectedDepth = unbounded ? 5 : 2;
        var expectedRejected = unbounded ? 0 : 3;
        await WaitUntilAsync(() => render.Dispatcher.QueueDepth == expectedDepth && rest.Count(t => t.IsCompleted) == expectedRejected);
        var depthBeforeRelease = render.Dispatcher.QueueDepth;
        var bulkheadQueueBeforeRelease = render.Dispatcher.Bulkhead.QueuedCount;
        var rejected = rest.Where(t => t.IsCompleted).Select(t => t.Exception?.InnerException).ToArray();
        observer.Release();
        await Task.WhenAll(rest.Select(t => Record.ExceptionAsync(() => t).AsTask())).DefaultTimeout();
        await first.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(expectedDepth, depthBeforeRelease);
        // The waiting happens in the render bulkhead itself (its pitfall switch): QueueLimit 2, yet 5 wait there when on.
        Assert.Equal(expectedDepth, bulkheadQueueBeforeRelease);
        Assert.All(rejected, e => Assert.Equal(StatusCode.Unavailable, Assert.IsType<RpcException>(e).StatusCode));
        // Symptom when on: nothing is shed; the backlog grows with every submission (and with it every caller's wait).
        Assert.Equal(unbounded ? 6 : 3, observer.Started);
        // The permits are the worker threads (a physical resource): even Mesh:Pitfalls:NoBulkheads keeps them.
        Assert.Equal(1, render.Dispatcher.Bulkhead.PermitLimit);
    }

    [Fact]
    public async Task Render_Default_RunsOnDedicatedWorkerNotThreadPool()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await StartAsync(observer, new() { ["Render:WorkerCount"] = "2" });

        // Act
        await render.Render();

        // Assert
        var (isThreadPoolThread, threadName) = Assert.Single(observer.StartedOn);
        Assert.False(isThreadPoolThread);
        Assert.StartsWith("render-worker-", threadName, StringComparison.Ordinal);
        Assert.Equal(2, render.Host.Services.GetRequiredService<RenderWorkerPool>().WorkerCount);
        Assert.Equal(2, render.Dispatcher.Bulkhead.PermitLimit);
    }

    [Fact]
    public async Task Render_InlinePitfallOn_RunsOnThreadPoolThread()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await StartAsync(observer, new() { ["Render:Pitfalls:Inline"] = "true" });

        // Act
        var response = await render.Render();

        // Assert: the symptom's cause — a shared thread-pool thread ran the CPU-bound work.
        var (isThreadPoolThread, _) = Assert.Single(observer.StartedOn);
        Assert.True(isThreadPoolThread);
        Assert.IsType<InlineRenderExecutor>(render.Dispatcher.Executor);
        Assert.NotEmpty(response.Sha256);
    }

    [Fact]
    public async Task Render_InlinePitfallOn_StillAdmittedThroughRenderBulkhead()
    {
        // Arrange: one permit, no queue; the inline render is held on its request thread.
        using var observer = new RecordingRenderObserver(gated: true);
        await using var render = await StartAsync(observer, new() { ["Render:Pitfalls:Inline"] = "true", ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "0" });
        var running = render.Render();
        await observer.FirstStarted.Task.DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => render.Render().ResponseAsync);
        observer.Release();
        await running.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("queue-full", error.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task Render_Completed_RecordsDurationAndWorkerGauges()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await StartAsync(observer, new() { ["Render:WorkerCount"] = "3" });
        var meterFactory = render.Host.Services.GetRequiredService<IMeterFactory>();
        using var duration = new MetricCollector<double>(meterFactory, RenderMetrics.MeterName, "meshbulkheads.render.duration");
        using var limit = new MetricCollector<int>(meterFactory, RenderMetrics.MeterName, "meshbulkheads.render.workers.permit_limit");
        using var busy = new MetricCollector<int>(meterFactory, RenderMetrics.MeterName, "meshbulkheads.render.workers.active_requests");

        // Act
        await render.Render();
        await duration.WaitForMeasurementsAsync(1, TestContext.Current.CancellationToken).DefaultTimeout();
        limit.RecordObservableInstruments();
        busy.RecordObservableInstruments();

        // Assert
        var measurement = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(MeshTelemetryResults.Completed, measurement.Tags[MeshTelemetryTags.Result]);
        Assert.True(measurement.Value >= 0);
        Assert.Equal(3, limit.LastMeasurement?.Value);
        Assert.Equal(0, busy.LastMeasurement?.Value);
    }
}
