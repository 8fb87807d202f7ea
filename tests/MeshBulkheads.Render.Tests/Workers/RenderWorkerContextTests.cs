using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.Render.Tests.Workers;

/// <summary>
/// Real worker threads and <see cref="TimeProvider.System"/>: a job must see its own caller's
/// <see cref="ExecutionContext"/>, never the one of the request that happened to create the pool.
/// </summary>
public class RenderWorkerContextTests
{
    private static readonly AsyncLocal<string?> Caller = new();

    [Fact]
    public async Task ExecuteAsync_PoolCreatedInsideFirstRequest_LaterJobsSeeOnlyTheirOwnCallersContext()
    {
        // Arrange: the pool is created lazily inside a "first request" with its own Activity and AsyncLocal.
        var observer = new ContextObserver();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new RenderMetrics(services.GetRequiredService<IMeterFactory>());
        var pool = await Task.Run(() =>
        {
            using var first = new Activity("first-request").Start();
            Caller.Value = "first";
            return new RenderWorkerPool(Options.Create(new RenderOptions { WorkerCount = 1 }), observer, metrics, TimeProvider.System);
        }, TestContext.Current.CancellationToken);
        using var disposePool = pool;

        // Act: a second caller with its own context, then a third with none.
        var secondTrace = await Task.Run(async () =>
        {
            using var second = new Activity("second-request").Start();
            Caller.Value = "second";
            await pool.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, deadline: null, TestContext.Current.CancellationToken).DefaultTimeout();
            return second.TraceId;
        }, TestContext.Current.CancellationToken);
        await Task.Run(async () =>
        {
            Activity.Current = null;
            Caller.Value = null;
            await pool.ExecuteAsync(new RenderParameters(8, 8, 8), permit: null, deadline: null, TestContext.Current.CancellationToken).DefaultTimeout();
        }, TestContext.Current.CancellationToken);

        // Assert
        var seen = observer.Seen.ToArray();
        Assert.Equal(2, seen.Length);
        Assert.Equal(("second", "second-request", secondTrace), (seen[0].Caller, seen[0].Activity, seen[0].TraceId));
        Assert.Equal((null, null), (seen[1].Caller, seen[1].Activity));
        Assert.All(seen, s => Assert.StartsWith("render-worker-", s.Thread, StringComparison.Ordinal));
    }

    private sealed class ContextObserver : IRenderJobObserver
    {
        public ConcurrentQueue<(string? Caller, string? Activity, ActivityTraceId? TraceId, string? Thread)> Seen { get; } = new();

        public void OnJobQueued(RenderParameters parameters)
        {
        }

        public void OnJobStarting(RenderParameters parameters) =>
            Seen.Enqueue((Caller.Value, Activity.Current?.OperationName, Activity.Current?.TraceId, Thread.CurrentThread.Name));
    }
}
