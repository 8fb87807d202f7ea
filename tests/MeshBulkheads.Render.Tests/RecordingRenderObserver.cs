using System.Collections.Concurrent;

namespace MeshBulkheads.Render.Tests;

/// <summary>
/// Records which thread started each job and can hold jobs at their start on a gate. Blocking here
/// is fine: it runs on a dedicated render worker, which is exactly the thread the gate must hold.
/// </summary>
internal sealed class RecordingRenderObserver : IRenderJobObserver, IDisposable
{
    private readonly ManualResetEventSlim _gate;
    private int _started;
    private int _queued;

    public RecordingRenderObserver(bool gated = false)
    {
        _gate = new ManualResetEventSlim(!gated);
    }

    public int Started => Volatile.Read(ref _started);

    public ConcurrentQueue<(bool IsThreadPoolThread, string? ThreadName)> StartedOn { get; } = new();

    public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed with the running count each time a job is queued.</summary>
    public ConcurrentDictionary<int, TaskCompletionSource> QueuedSignals { get; } = new();

    public Task WhenQueuedAsync(int count) => QueuedSignals.GetOrAdd(count, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Release() => _gate.Set();

    public void OnJobQueued(RenderParameters parameters)
    {
        var count = Interlocked.Increment(ref _queued);
        QueuedSignals.GetOrAdd(count, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public void OnJobStarting(RenderParameters parameters)
    {
        Interlocked.Increment(ref _started);
        StartedOn.Enqueue((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
        FirstStarted.TrySetResult();
        // Bounded, so a broken test fails instead of hanging a worker forever.
        _gate.Wait(TimeSpan.FromSeconds(30));
    }

    public void Dispose()
    {
        _gate.Set();
        _gate.Dispose();
    }
}
