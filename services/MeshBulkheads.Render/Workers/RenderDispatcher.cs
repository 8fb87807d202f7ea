using System.Diagnostics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Render.Rendering;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Admission then execution: every render asks the shared bulkhead <c>render</c> for a permit (bounded
/// queue, queue-time shedding, deadline-aware admission, removal on cancellation or deadline) and only
/// then goes to the executor (the dedicated worker pool, or inline with the pitfall switch).
/// </summary>
/// <remarks>
/// Admission happens here rather than in <c>BulkheadInterceptor</c> so a malformed request gets
/// INVALID_ARGUMENT at once instead of waiting in the queue first. <c>Render:Pitfalls:UnboundedQueue</c> is the
/// bulkhead's own unbounded-queue pitfall (<c>BulkheadOptions.Pitfalls</c>): every render queues, none is shed.
/// </remarks>
public sealed class RenderDispatcher
{
    private readonly Bulkhead _bulkhead;
    private readonly IRenderExecutor _executor;
    private readonly RenderWorkerPool? _pool;

    public RenderDispatcher(IBulkheadProvider bulkheads, IRenderExecutor executor, IOptions<RenderOptions> options, RenderMetrics metrics)
    {
        _bulkhead = bulkheads.Get(RenderServiceCollectionExtensions.BulkheadName);
        _executor = executor;
        _pool = executor as RenderWorkerPool;
        metrics.ObservePool(() => QueueDepth, options.Value.EffectiveWorkers);
    }

    /// <summary>The bulkhead renders are admitted through.</summary>
    public Bulkhead Bulkhead => _bulkhead;

    /// <summary>The executor chosen at start-up.</summary>
    public IRenderExecutor Executor => _executor;

    /// <summary>Renders waiting for a worker: in the bulkhead's queue plus admitted jobs not yet picked up.</summary>
    public int QueueDepth => _bulkhead.QueuedCount + (_pool?.HandOffDepth ?? 0);

    /// <summary>Admits and runs a render, or throws the bulkhead's rejection as an <c>RpcException</c>.</summary>
    /// <param name="parameters">The validated request.</param>
    /// <param name="caller">The caller's effective deadline, tenant and criticality.</param>
    /// <param name="cancellationToken">Fires when the caller cancels or its deadline passes.</param>
    public async Task<RenderResult> RenderAsync(RenderParameters parameters, BulkheadRequest caller, CancellationToken cancellationToken)
    {
        var lease = await _bulkhead.AcquireAsync(caller, cancellationToken);
        BulkheadActivity.Record(Activity.Current, _bulkhead.Name, lease);
        if (!lease.IsAcquired)
        {
            // Thrown before any response header is written: a Trailers-Only response whose pushback
            // a grpc-dotnet retry policy honours.
            throw BulkheadRejectionMapper.ToRpcException(lease, _bulkhead.Name);
        }

        // The executor owns the lease from here and releases it when the job finishes or is removed.
        return await _executor.ExecuteAsync(parameters, lease, caller.Deadline, cancellationToken);
    }
}
