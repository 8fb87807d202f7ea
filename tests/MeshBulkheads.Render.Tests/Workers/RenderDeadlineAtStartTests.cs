using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Render.Rendering;
using MeshBulkheads.Render.Workers;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.Render.Tests.Workers;

/// <summary>
/// The deadline's cancellation timer runs on the shared thread pool and can fire late under load, so
/// the executors also read the clock before a render starts: no work for a caller that has given up.
/// </summary>
public class RenderDeadlineAtStartTests
{
    [Fact]
    public async Task WorkerPool_DeadlinePassedButTokenNotYetFired_NeverStartsAndDeadlineExceeded()
    {
        // Arrange: the clock says the deadline has passed; the token has not fired (a late timer).
        var time = new FakeTimeProvider();
        using var observer = new RecordingRenderObserver();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new RenderMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        using var pool = new RenderWorkerPool(Options.Create(new RenderOptions { Workers = 1 }), observer, metrics, time);
        var deadline = time.GetUtcNow() - TimeSpan.FromMilliseconds(1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => pool.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, deadline, TestContext.Current.CancellationToken).DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(0, observer.Started);
    }

    [Fact]
    public async Task WorkerPool_DeadlineAhead_Renders()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var observer = new RecordingRenderObserver();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new RenderMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        using var pool = new RenderWorkerPool(Options.Create(new RenderOptions { Workers = 1 }), observer, metrics, time);

        // Act
        var result = await pool.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, time.GetUtcNow() + TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        Assert.NotEmpty(result.Png);
        Assert.Equal(1, observer.Started);
    }

    [Fact]
    public async Task Inline_DeadlinePassedButTokenNotYetFired_NeverStarts()
    {
        // Arrange
        var time = new FakeTimeProvider();
        using var observer = new RecordingRenderObserver();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new RenderMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var inline = new InlineRenderExecutor(observer, metrics, time);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => inline.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, time.GetUtcNow(), TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(0, observer.Started);
    }
}
