using System.Diagnostics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Render.Budget;
using MeshBulkheads.Render.Rendering;
using Grpc.Core;

namespace MeshBulkheads.Render.Workers;

/// <summary>
/// Admission then execution: every render asks the shared bulkhead <c>render</c> for a permit (bounded
/// queue, queue-time shedding, deadline-aware admission, removal on cancellation or deadline) and only
/// then goes to the executor (the dedicated worker pool, or inline with the pitfall switch).
/// </summary>
/// <remarks>
/// Admission happens here rather than in <c>BulkheadInterceptor</c> so a malformed request gets
/// INVALID_ARGUMENT at once instead of waiting in the queue first. <c>Bulkheads:render:Pitfalls:UnboundedQueue</c> is the
/// bulkhead's own unbounded-queue pitfall (<c>BulkheadOptions.Pitfalls</c>): every render queues, none is shed.
/// </remarks>
public sealed class RenderDispatcher
{
    private readonly Bulkhead _bulkhead;
    private readonly IRenderExecutor _executor;
    private readonly RenderWorkerPool? _pool;
    private readonly TenantWorkBudget _budget;
    private readonly ILogger _logger;

    public RenderDispatcher(
        IBulkheadProvider bulkheads, IRenderExecutor executor, IOptions<RenderOptions> options, RenderMetrics metrics, TenantWorkBudget budget, ILogger<RenderDispatcher> logger)
    {
        _budget = budget;
        _logger = logger;
        _bulkhead = bulkheads.Get(RenderBulkheads.Name);
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
        var lease = await AdmitAsync(parameters, caller, cancellationToken);

        // The executor owns the lease from here and releases it when the job finishes or is removed.
        try
        {
            return await _executor.ExecuteAsync(parameters, lease, caller.Deadline, cancellationToken);
        }
        catch (Exception ex) when (IsRenderFailure(ex))
        {
            RenderLog.RenderFailed(_logger, parameters.Width, parameters.Height, parameters.Iterations, ex);
            throw;
        }
    }

    /// <summary>
    /// The admission every render goes through, the whole of it: the tenant's work budget for the whole image, then a
    /// permit of the <c>render</c> bulkhead (a <c>RenderRows</c> stream asks with <see cref="BulkheadRequest.LongLived"/>
    /// and holds it for its life). Throws the rejection as an <c>RpcException</c> before any response header is written.
    /// </summary>
    /// <param name="parameters">The validated request.</param>
    /// <param name="caller">The caller's effective deadline, tenant and criticality.</param>
    /// <param name="cancellationToken">Fires when the caller cancels or its deadline passes.</param>
    /// <returns>An acquired lease; the caller releases it.</returns>
    public async Task<BulkheadLease> AdmitAsync(RenderParameters parameters, BulkheadRequest caller, CancellationToken cancellationToken)
    {
        // The tenant's work budget first (RESOURCE_EXHAUSTED with pushback): a tenant that has spent it never
        // takes a queue slot or a worker from the others. Refunded when the render never gets a permit.
        var work = parameters.WorkUnits;
        try
        {
            _budget.Charge(caller.Tenant, work);
        }
        catch (RpcException)
        {
            RenderLog.RenderBudgetExhausted(_logger, caller.Tenant, work);
            throw;
        }

        BulkheadLease lease;
        try
        {
            lease = await _bulkhead.AcquireAsync(caller, cancellationToken);
        }
        catch
        {
            _budget.Refund(caller.Tenant, work);
            throw;
        }

        BulkheadActivity.Record(Activity.Current, _bulkhead.Name, lease);
        if (!lease.IsAcquired)
        {
            _budget.Refund(caller.Tenant, work);
            RenderLog.RenderShed(_logger, _bulkhead.Name, BulkheadConstants.Results.For(lease.Reason), caller.Tenant);
            // Thrown before any response header is written: a Trailers-Only response whose pushback
            // a grpc-dotnet retry policy honours.
            throw BulkheadRejectionMapper.ToRejection(lease, _bulkhead.Name).ToRpcException();
        }

        return lease;
    }

    /// <summary>Cancellation, a passed deadline and shutdown are the caller's or the host's doing; anything else is the render's.</summary>
    internal static bool IsRenderFailure(Exception ex) => ex is not (OperationCanceledException or RpcException or ObjectDisposedException);
}
