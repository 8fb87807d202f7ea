using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Render.Tests.Workers;

/// <summary>
/// Deadlines in the executors. The deadline's cancellation timer runs on the shared thread pool and can
/// fire late under load, so the executors also read the clock before a render starts: no work for a
/// caller that has given up. A render whose deadline passed is counted as <c>deadline</c> in
/// <c>meshbulkheads.render.workers.requests</c>, not <c>canceled</c>.
/// </summary>
public class RenderDeadlineTests
{
    [Fact]
    public async Task WorkerPool_DeadlinePassedButTokenNotYetFired_NeverStartsDeadlineExceededAndCountedAsDeadline()
    {
        // Arrange: the clock says the deadline has passed; the token has not fired (a late timer).
        using var harness = new RenderExecutorHarness();
        var (time, observer, jobs, pool) = (harness.Time, harness.Observer, harness.Collect("meshbulkheads.render.workers.requests"), harness.CreatePool());
        var deadline = time.GetUtcNow() - TimeSpan.FromMilliseconds(1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => pool.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, deadline, TestContext.Current.CancellationToken).DefaultTimeout());
        await jobs.WaitForMeasurementsAsync(1, TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(0, observer.Started);
        Assert.Equal(MeshTelemetryResults.Deadline, Assert.Single(jobs.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.Result]);
    }

    [Fact]
    public async Task WorkerPool_DeadlineAhead_Renders()
    {
        // Arrange
        using var harness = new RenderExecutorHarness();
        var (time, observer, pool) = (harness.Time, harness.Observer, harness.CreatePool());

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
        using var harness = new RenderExecutorHarness();
        var (time, observer, inline) = (harness.Time, harness.Observer, harness.CreateInline());

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => inline.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, time.GetUtcNow(), TestContext.Current.CancellationToken));

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(0, observer.Started);
    }

    [Theory]
    [InlineData(true, MeshTelemetryResults.Deadline)]
    [InlineData(false, MeshTelemetryResults.Canceled)]
    public async Task WorkerPool_TokenFiresWhileQueued_DeadlineOrCanceledByTheClock(bool deadlinePassed, string expected)
    {
        // Arrange: the only worker is held; a second job waits in the hand-off queue.
        using var harness = new RenderExecutorHarness(gated: true);
        var (time, observer, jobs, pool) = (harness.Time, harness.Observer, harness.Collect("meshbulkheads.render.workers.requests"), harness.CreatePool());
        var running = pool.ExecuteAsync(new RenderParameters(8, 8, 8), null, null, TestContext.Current.CancellationToken);
        await observer.FirstStarted.Task.DefaultTimeout();
        using var call = new CancellationTokenSource();
        var queued = pool.ExecuteAsync(new RenderParameters(8, 8, 8), null, time.GetUtcNow() + TimeSpan.FromSeconds(5), call.Token);

        // Act: the call's token fires (grpc fires it for a deadline and for a caller that left alike).
        if (deadlinePassed)
        {
            time.Advance(TimeSpan.FromSeconds(6));
        }

        await call.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.DefaultTimeout());
        observer.Release();
        await running.DefaultTimeout();
        await jobs.WaitForMeasurementsAsync(2, TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        var results = jobs.GetMeasurementSnapshot().Select(m => (string?)m.Tags[MeshTelemetryTags.Result]).ToArray();
        Assert.Contains(expected, results);
        Assert.Contains(MeshTelemetryResults.Completed, results);
    }
}
