using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Render.Tests.Streaming;

/// <summary>RenderRows on a real render host (Kestrel on 127.0.0.1, a real gRPC client).</summary>
public sealed class RenderRowStreamerTests
{
    // Rows of 6 KB (2048 × 3 bytes): a few dozen fill the client's 64 KB stream window and Kestrel's 64 KB response
    // buffer, so a consumer that stops reading stops the producer. One iteration per pixel keeps the CPU cost small.
    private static readonly RenderRequest BigRows = new() { Width = 2048, Height = 128, Iterations = 1 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RenderRows_FastConsumer_EveryRowInOrderWithRenderPixelsAndOk()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1" });
        var meters = render.Host.Services.GetRequiredService<IMeterFactory>();
        using var rpc = new MetricCollector<double>(meters, GrpcMetrics.MeterName, GrpcServerMetricsInterceptor.InstrumentName);
        using var rows = new MetricCollector<long>(meters, RenderMetrics.MeterName, RenderMetrics.StreamRowsName);
        using var jobs = new MetricCollector<long>(meters, RenderMetrics.MeterName, RenderMetrics.RequestsName);
        var request = new RenderRequest { Width = 40, Height = 24, Iterations = 30 };
        var parameters = new RenderParameters(40, 24, 30);
        var expected = new byte[40 * 24 * 3];
        MandelbrotRenderer.Render(parameters, expected, Ct);

        // Act
        using var call = render.Client.RenderRows(request, cancellationToken: Ct);
        var received = new List<RenderRow>();
        await foreach (var row in call.ResponseStream.ReadAllAsync(Ct))
        {
            received.Add(row);
        }

        await rpc.WaitForMeasurementsAsync(1, Ct).DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(Enumerable.Range(0, 24), received.Select(r => r.Y));
        Assert.All(received, r => Assert.Equal((40, 24), (r.Width, r.Height)));
        Assert.Equal(expected, received.SelectMany(r => r.Rgb.ToByteArray()));
        Assert.Equal(24, rows.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(MeshTelemetryResults.Completed, Assert.Single(jobs.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.Result]);
        var measured = Assert.Single(rpc.GetMeasurementSnapshot());
        Assert.Equal("RenderRows", measured.Tags[MeshTelemetryTags.RpcMethod]);
        Assert.Equal("OK", measured.Tags[MeshTelemetryTags.GrpcStatusCode]);
        Assert.Equal(0, render.Dispatcher.Bulkhead.ActiveCount);
        // A stream's rows are not renders of their own: the observer saw no job.
        Assert.Equal(0, observer.Started);
    }

    [Fact]
    public async Task RenderRows_InvalidRequest_InvalidArgumentBeforeAnyRow()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1" });

        // Act
        using var call = render.Client.RenderRows(new RenderRequest { Width = -1 }, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("width", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, render.Dispatcher.Bulkhead.ActiveCount);
    }

    [Fact]
    public async Task RenderRows_DeadlinePassesMidStream_StopsProducingAndEndsDeadlineExceeded()
    {
        // Arrange: the stream's deadline comes from the server's policy (the client sends none), so DEADLINE_EXCEEDED is
        // the server's answer, not the client's own timer.
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new()
        {
            ["Render:WorkerCount"] = "1",
            ["Bulkheads:render:MaxQueueTime"] = "00:00:00.200",
            ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/RenderRows:Default"] = "00:00:00.500",
        });
        var meters = render.Host.Services.GetRequiredService<IMeterFactory>();
        using var rpc = new MetricCollector<double>(meters, GrpcMetrics.MeterName, GrpcServerMetricsInterceptor.InstrumentName);
        using var rows = new MetricCollector<long>(meters, RenderMetrics.MeterName, RenderMetrics.StreamRowsName);
        using var jobs = new MetricCollector<long>(meters, RenderMetrics.MeterName, RenderMetrics.RequestsName);
        using var call = render.Client.RenderRows(BigRows, cancellationToken: Ct);

        // Act: read one row, then stop reading until the server has ended the stream.
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        await jobs.WaitForMeasurementsAsync(1, Ct).DefaultTimeout();
        var producedAtEnd = rows.GetMeasurementSnapshot().Sum(m => m.Value);
        var received = 1;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(Ct))
            {
                received++;
            }
        }).DefaultTimeout();
        await rpc.WaitForMeasurementsAsync(1, Ct).DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshTelemetryResults.Deadline, Assert.Single(jobs.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.Result]);
        Assert.True(producedAtEnd < BigRows.Height, $"the producer stopped: {producedAtEnd} of {BigRows.Height} rows");
        Assert.Equal(producedAtEnd, rows.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.True(received <= producedAtEnd + 1, $"received {received}, written {producedAtEnd}");
        Assert.Equal("DEADLINE_EXCEEDED", Assert.Single(rpc.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.GrpcStatusCode]);
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.ActiveCount == 0);
    }

    [Fact]
    public async Task RenderRows_BulkheadFull_UnavailableQueueFullWithPushbackBeforeAnyRow()
    {
        // Arrange: one worker, no queue; a stream whose consumer stopped reading holds the only permit.
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "0" });
        using var holder = new CancellationTokenSource();
        using var held = render.Client.RenderRows(BigRows, cancellationToken: holder.Token);
        Assert.True(await held.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Act
        using var second = render.Client.RenderRows(RenderTestHost.Small, cancellationToken: Ct);
        var streamError = await Assert.ThrowsAsync<RpcException>(() => second.ResponseStream.MoveNext(Ct).DefaultTimeout());
        var unaryError = await Assert.ThrowsAsync<RpcException>(() => render.Render().ResponseAsync.DefaultTimeout());
        await holder.CancelAsync();

        // Assert: the same rejection as a unary render's, with the same pushback, thrown before any row.
        Assert.Equal(StatusCode.Unavailable, streamError.StatusCode);
        Assert.Equal("queue-full", streamError.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.NotNull(streamError.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Equal("queue-full", unaryError.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(1, render.Dispatcher.Bulkhead.PermitLimit);
    }

    [Fact]
    public async Task RenderRows_ClientCancelsMidStream_PermitReleased()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1", ["Bulkheads:render:QueueLimit"] = "0" });
        using var jobs = new MetricCollector<long>(render.Host.Services.GetRequiredService<IMeterFactory>(), RenderMetrics.MeterName, RenderMetrics.RequestsName);
        using var client = new CancellationTokenSource();
        using var call = render.Client.RenderRows(BigRows, cancellationToken: client.Token);
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        var heldWhileStreaming = render.Dispatcher.Bulkhead.ActiveCount;

        // Act
        await client.CancelAsync();
        await WaitUntilAsync(() => render.Dispatcher.Bulkhead.ActiveCount == 0);
        await jobs.WaitForMeasurementsAsync(1, Ct).DefaultTimeout();
        var streamResult = Assert.Single(jobs.GetMeasurementSnapshot()).Tags[MeshTelemetryTags.Result];
        var after = await render.Render().ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(1, heldWhileStreaming);
        Assert.Equal(MeshTelemetryResults.Canceled, streamResult);
        Assert.NotEmpty(after.Sha256);
    }

    [Fact]
    public async Task RenderRows_StreamLongerThanRenders_LeavesQueueWaitEstimateAlone()
    {
        // Arrange: unary renders teach the bulkhead their service time.
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1" });
        var bulkhead = render.Dispatcher.Bulkhead;
        await render.Render().ResponseAsync.DefaultTimeout();
        await render.Render().ResponseAsync.DefaultTimeout();
        var learned = bulkhead.EstimateQueueWait();

        // Act: a stream of 128 rows, each its own hand-off to the worker, held far longer than a small render.
        var streamed = await ReadAllAsync(render.Client.RenderRows(BigRows, cancellationToken: Ct), stallAfterFirst: TimeSpan.Zero);
        await WaitUntilAsync(() => bulkhead.ActiveCount == 0);

        // Assert: no sample was added, so the estimate is exactly what the renders taught.
        Assert.Equal(BigRows.Height, streamed);
        Assert.True(learned > TimeSpan.Zero);
        Assert.Equal(learned, bulkhead.EstimateQueueWait());
    }

    [Fact]
    public async Task RenderRows_SlowConsumer_ProducerWriteWaitGrowsOverFastConsumer()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new() { ["Render:WorkerCount"] = "1" });
        using var writeWait = new MetricCollector<double>(render.Host.Services.GetRequiredService<IMeterFactory>(), RenderMetrics.MeterName, RenderMetrics.StreamWriteWaitName);

        // Act: the same stream read at once, then by a consumer that reads one row and stalls before reading the rest.
        var fastRows = await ReadAllAsync(render.Client.RenderRows(BigRows, cancellationToken: Ct), stallAfterFirst: TimeSpan.Zero);
        var fast = writeWait.GetMeasurementSnapshot(clear: true);
        var slowRows = await ReadAllAsync(render.Client.RenderRows(BigRows, cancellationToken: Ct), stallAfterFirst: TimeSpan.FromSeconds(1));
        var slow = writeWait.GetMeasurementSnapshot();

        // Assert: one measurement per row each time; the stalled consumer made the producer wait longer (direction only).
        Assert.Equal(BigRows.Height, fastRows);
        Assert.Equal(BigRows.Height, slowRows);
        Assert.Equal(BigRows.Height, fast.Count);
        Assert.Equal(BigRows.Height, slow.Count);
        var (fastSum, slowSum) = (fast.Sum(m => m.Value), slow.Sum(m => m.Value));
        TestContext.Current.TestOutputHelper?.WriteLine($"write wait over {BigRows.Height} rows: fast consumer {fastSum:0.000} s (max {fast.Max(m => m.Value):0.000} s), consumer stalled 1 s after the first row {slowSum:0.000} s (max {slow.Max(m => m.Value):0.000} s)");
        Assert.True(slowSum > fastSum, $"write wait with a slow consumer {slowSum:0.000} s, fast {fastSum:0.000} s");
        Assert.True(slow.Max(m => m.Value) > fast.Max(m => m.Value), "the longest single write waited for the stalled consumer");
    }

    private static async Task<int> ReadAllAsync(AsyncServerStreamingCall<RenderRow> call, TimeSpan stallAfterFirst)
    {
        using (call)
        {
            var count = 0;
            while (await call.ResponseStream.MoveNext(Ct).DefaultTimeout())
            {
                if (++count == 1 && stallAfterFirst > TimeSpan.Zero)
                {
                    // The slow consumer: it holds the row it has and reads nothing more for a while.
                    await Task.Delay(stallAfterFirst, Ct);
                }
            }

            return count;
        }
    }
}
