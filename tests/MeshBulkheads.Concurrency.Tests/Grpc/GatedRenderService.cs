using MeshBulkheads.Contracts.Render.V1;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>A tiny in-test service: counts handler starts, and holds calls with width 1 until the gate opens.</summary>
public sealed class GatedRenderService(GatedRenderService.Probe probe) : RenderService.RenderServiceBase
{
    public override async Task<RenderResponse> Render(RenderRequest request, ServerCallContext context)
    {
        probe.RecordStart(context);
        if (request.Width == 1)
        {
            await probe.Gate.Task.WaitAsync(context.CancellationToken);
        }

        return new RenderResponse { Sha256 = "ok" };
    }

    public sealed class Probe
    {
        private int _started;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Started => Volatile.Read(ref _started);

        /// <summary>Handlers that started after their effective deadline (must stay 0).</summary>
        public int StartedAfterDeadline { get; private set; }

        public DateTime LastDeadline { get; private set; }

        public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void RecordStart(ServerCallContext context)
        {
            Interlocked.Increment(ref _started);
            LastDeadline = context.Deadline;
            if (context.Deadline <= TimeProvider.System.GetUtcNow().UtcDateTime)
            {
                StartedAfterDeadline++;
            }

            FirstStarted.TrySetResult();
        }
    }
}
