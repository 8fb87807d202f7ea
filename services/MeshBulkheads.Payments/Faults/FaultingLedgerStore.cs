using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.ServiceDefaults.Faults;

namespace MeshBulkheads.Payments.Faults;

/// <summary>
/// The <c>store</c> injection point (docs/faults.md): every ledger call first goes through the <c>store</c> fault
/// pipeline, so <c>PUT /faults</c> can make the database slow or failing while payments runs — the pool bounds the
/// damage, payments sheds with pushback. <c>Payments:Pitfalls:ExtraQueryLatency</c> is the same fault, configured
/// at start (<see cref="ExtraQueryLatencyFault"/>). Nothing is injected when no fault is active (one check per call).
/// </summary>
public sealed class FaultingLedgerStore(ILedgerStore inner, FaultPipelines faults) : ILedgerStore, IAsyncDisposable
{
    private const string Charge = PaymentsBulkheads.ServicePrefix + nameof(Charge);
    private const string GetBalance = PaymentsBulkheads.ServicePrefix + nameof(GetBalance);
    private const string ListPayments = PaymentsBulkheads.ServicePrefix + nameof(ListPayments);

    public ILedgerStore Inner => inner;

    public string DbSystem => inner.DbSystem;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken)
    {
        await faults.InjectAsync(FaultTargets.Store, Charge, cancellationToken);
        return await inner.ChargeAsync(command, cancellationToken);
    }

    public async Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken)
    {
        await faults.InjectAsync(FaultTargets.Store, GetBalance, cancellationToken);
        return await inner.GetBalanceAsync(tenantId, accountId, cancellationToken);
    }

    public async Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken)
    {
        await faults.InjectAsync(FaultTargets.Store, ListPayments, cancellationToken);
        return await inner.ListPaymentsAsync(tenantId, accountId, pageSize, beforeSequence, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary><c>Payments:Pitfalls:ExtraQueryLatency</c> as a permanent <c>store</c> latency fault (a restart changes it).</summary>
internal sealed class ExtraQueryLatencyFault(IOptions<PaymentsOptions> options) : IConfiguredFault
{
    public FaultSpec? Fault { get; } = options.Value.Pitfalls.ExtraQueryLatency <= TimeSpan.Zero ? null : new()
    {
        Kind = FaultKinds.Latency,
        Target = FaultTargets.Store,
        LatencyMs = options.Value.Pitfalls.ExtraQueryLatency.TotalMilliseconds,
    };
}
