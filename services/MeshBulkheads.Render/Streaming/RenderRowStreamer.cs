using Google.Protobuf;
using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Render.Rendering;
using MeshBulkheads.Render.Workers;

namespace MeshBulkheads.Render.Streaming;

/// <summary>
/// <c>RenderRows</c>: admits the stream once (work budget for the whole image, one long-lived permit of the
/// <c>render</c> bulkhead held until the stream ends), then computes each row on the render workers and writes it
/// before computing the next. The write completes only when HTTP/2 flow control and Kestrel's response buffer take
/// the row, so a slow consumer slows the producer — the time it waited is <see cref="RenderMetrics.StreamWriteWaitName"/>.
/// </summary>
/// <remarks>
/// The permit is asked for with <see cref="BulkheadRequest.LongLived"/>: how long a consumer keeps a stream open is no
/// service time, so the bulkhead's queue-wait estimate and retry pushback stay those of the unary renders. While it
/// waits for its consumer, a stream keeps its worker slot (the permit) but no thread: the worker is free until the
/// next row is submitted, and the stream's deadline (the Render default, 10 s) bounds how long a slot can be held.
/// The stream counts once in <see cref="RenderMetrics.RequestsName"/> when it ends.
/// </remarks>
public sealed class RenderRowStreamer(RenderDispatcher dispatcher, RenderMetrics metrics, TimeProvider timeProvider, ILogger<RenderRowStreamer> logger)
{
    /// <summary>Streams the image's rows to <paramref name="writer"/>, or throws the admission's rejection before the first row.</summary>
    /// <param name="parameters">The validated request.</param>
    /// <param name="caller">The caller's effective deadline, tenant and criticality.</param>
    /// <param name="writer">The response stream.</param>
    /// <param name="cancellationToken">Fires when the caller cancels or its deadline passes; cancels a waiting write too.</param>
    public async Task StreamAsync(RenderParameters parameters, BulkheadRequest caller, IAsyncStreamWriter<RenderRow> writer, CancellationToken cancellationToken)
    {
        using var lease = await dispatcher.AdmitAsync(parameters, caller with { LongLived = true }, cancellationToken);
        var result = MeshTelemetryResults.Failed;
        try
        {
            for (var y = 0; y < parameters.Height; y++)
            {
                var row = y;
                var rgb = await dispatcher.Executor.RunStreamStepAsync(parameters, _ => RenderRow(parameters, row), caller.Deadline, cancellationToken);
                var started = timeProvider.GetTimestamp();
                // The row's own array, never reused: wrapping it saves a copy of every row. The token stops the wait, not
                // the write: Kestrel aborts a stream whose write is cancelled (RST_STREAM, the caller sees CANCELLED), while
                // a write left to finish keeps the row and lets the trailers (DEADLINE_EXCEEDED) follow it.
                var write = writer.WriteAsync(new RenderRow { Y = row, Rgb = UnsafeByteOperations.UnsafeWrap(rgb), Width = parameters.Width, Height = parameters.Height }, CancellationToken.None);
                try
                {
                    await write.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // The abandoned write may still fail when the call is torn down; observe it so it is not reported as unobserved.
                    _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    throw;
                }

                metrics.RowWritten(timeProvider.GetElapsedTime(started));
            }

            result = MeshTelemetryResults.Completed;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested || ex is RpcException { StatusCode: StatusCode.DeadlineExceeded })
        {
            result = DeadlineGuard.ExplainsCancellation(caller.Deadline, timeProvider) ? MeshTelemetryResults.Deadline : MeshTelemetryResults.Canceled;
            if (ex is OperationCanceledException or RpcException)
            {
                throw;
            }

            // grpc-dotnet refuses a write on a finished call with InvalidOperationException; the cause is the cancellation,
            // and the deadline interceptor answers DEADLINE_EXCEEDED for an OperationCanceledException at the deadline.
            throw new OperationCanceledException("The RenderRows stream was cancelled while writing a row.", ex, cancellationToken);
        }
        catch (Exception ex) when (RenderDispatcher.IsRenderFailure(ex))
        {
            RenderLog.RenderFailed(logger, parameters.Width, parameters.Height, parameters.Iterations, ex);
            throw;
        }
        finally
        {
            metrics.JobCounted(result);
        }
    }

    private static byte[] RenderRow(RenderParameters parameters, int y)
    {
        var rgb = new byte[parameters.Width * 3];
        MandelbrotRenderer.RenderRow(parameters, y, rgb);
        return rgb;
    }
}
