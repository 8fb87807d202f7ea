using MeshBulkheads.Payments.Ledger;

namespace MeshBulkheads.Payments.Pitfalls;

/// <summary>
/// Adds <c>Payments:Pitfalls:ExtraQueryLatency</c> to every ledger call (an asynchronous timer wait, no
/// thread held), to simulate a slow database; with <see cref="SyncOverAsyncLedgerStore"/> around it the
/// wait pins a request thread.
/// </summary>
internal sealed class ExtraLatencyLedgerStore(ILedgerStore inner, TimeSpan latency, TimeProvider timeProvider) : ILedgerStore, IAsyncDisposable
{
    public ILedgerStore Inner => inner;

    public string DbSystem => inner.DbSystem;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken)
    {
        await Task.Delay(latency, timeProvider, cancellationToken);
        return await inner.ChargeAsync(command, cancellationToken);
    }

    public async Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken)
    {
        await Task.Delay(latency, timeProvider, cancellationToken);
        return await inner.GetBalanceAsync(tenantId, accountId, cancellationToken);
    }

    public async Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken)
    {
        await Task.Delay(latency, timeProvider, cancellationToken);
        return await inner.ListPaymentsAsync(tenantId, accountId, pageSize, beforeSequence, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
