using MeshBulkheads.Payments.Ledger;

namespace MeshBulkheads.Payments.Pitfalls;

/// <summary>
/// PITFALL (<c>Payments:Pitfalls:SyncOverAsync</c>): blocks the calling thread — the gRPC request thread,
/// a shared thread-pool thread — until each database call finishes. Every concurrent call pins one pool
/// thread; once they outnumber the pool's threads, queued work (including the continuations the blocked
/// calls wait for) starves. Symptom: <c>meshbulkheads_threadpool_lag_seconds</c> and
/// <c>dotnet.thread_pool.queue.length</c> rise while CPU stays low.
/// </summary>
internal sealed class SyncOverAsyncLedgerStore(ILedgerStore inner) : ILedgerStore, IAsyncDisposable
{
    public ILedgerStore Inner => inner;

    public string DbSystem => inner.DbSystem;

    // Start-up is not on a request thread: left asynchronous.
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken) =>
        Task.FromResult(inner.ChargeAsync(command, cancellationToken).GetAwaiter().GetResult());

    public Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken) =>
        Task.FromResult(inner.GetBalanceAsync(tenantId, accountId, cancellationToken).GetAwaiter().GetResult());

    public Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken) =>
        Task.FromResult(inner.ListPaymentsAsync(tenantId, accountId, pageSize, beforeSequence, cancellationToken).GetAwaiter().GetResult());

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
