using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// One piece of CPU work handed to a <see cref="RenderWorkerPool"/> thread: a whole render, or one step of a
/// <c>RenderRows</c> stream. Its outcome is recorded on the worker and delivered by <see cref="Complete"/> after the
/// permit is released.
/// </summary>
internal abstract class RenderJob(
    RenderWorkerPool pool, RenderParameters parameters, IDisposable? permit, DateTimeOffset? deadline, ExecutionContext? callerContext, bool isStreamStep, CancellationToken cancellationToken)
{
    public RenderWorkerPool Pool { get; } = pool;

    public RenderParameters Parameters { get; } = parameters;

    /// <summary>The bulkhead lease this job releases; null for a stream step (the stream holds its permit).</summary>
    public IDisposable? Permit { get; } = permit;

    public DateTimeOffset? Deadline { get; } = deadline;

    public ExecutionContext? CallerContext { get; } = callerContext;

    /// <summary>A step of a stream: not a render of its own for the observer and the job metrics.</summary>
    public bool IsStreamStep { get; } = isStreamStep;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public string? Result { get; set; }

    public CancellationTokenRegistration Registration { get; set; }

    public LinkedListNode<RenderJob>? Node { get; set; }

    /// <summary>Runs the work on the calling worker and records its result.</summary>
    public abstract void Work(CancellationToken cancellationToken);

    public abstract void DeferFailure(Exception exception);

    public abstract void DeferCanceled(CancellationToken cancellationToken);

    /// <summary>Delivers the recorded outcome (after the permit is released).</summary>
    public abstract void Complete();

    /// <summary>Fails the job at once (it never reached a worker).</summary>
    public abstract void Fail(Exception exception);

    /// <summary>Cancels the job at once (it never reached a worker).</summary>
    public abstract void Cancel(CancellationToken cancellationToken);
}

/// <summary>A job whose work returns a <typeparamref name="T"/>.</summary>
internal sealed class RenderJob<T>(
    RenderWorkerPool pool,
    RenderParameters parameters,
    IDisposable? permit,
    DateTimeOffset? deadline,
    ExecutionContext? callerContext,
    bool isStreamStep,
    Func<CancellationToken, T> work,
    CancellationToken cancellationToken)
    : RenderJob(pool, parameters, permit, deadline, callerContext, isStreamStep, cancellationToken)
{
    private Action<TaskCompletionSource<T>>? _outcome;

    // The handler awaits this; continuations must not run on (and steal) a render worker.
    public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Work(CancellationToken cancellationToken)
    {
        var result = work(cancellationToken);
        _outcome = c => c.TrySetResult(result);
    }

    public override void DeferFailure(Exception exception) => _outcome = c => c.TrySetException(exception);

    public override void DeferCanceled(CancellationToken cancellationToken) => _outcome = c => c.TrySetCanceled(cancellationToken);

    public override void Complete()
    {
        if (_outcome is { } outcome)
        {
            outcome(Completion);
        }
        else
        {
            Completion.TrySetException(new InvalidOperationException("The render job ended without an outcome."));
        }
    }

    public override void Fail(Exception exception) => Completion.TrySetException(exception);

    public override void Cancel(CancellationToken cancellationToken) => Completion.TrySetCanceled(cancellationToken);
}
