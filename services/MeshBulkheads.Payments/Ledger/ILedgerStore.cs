namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The ledger: accounts per tenant and their payments. Implementations enforce idempotency and
/// per-account serializability in the database itself, so they hold across any number of replicas.
/// </summary>
public interface ILedgerStore
{
    /// <summary><c>sqlite</c> or <c>postgresql</c>.</summary>
    string DbSystem { get; }

    /// <summary>Creates the schema if needed; safe when several replicas call it at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Records a payment (creating the account on its first charge) or replays an earlier one.</summary>
    Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken);

    /// <summary>The account's balance, or null when the tenant has no such account.</summary>
    Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="pageSize"/> payments with a sequence below <paramref name="beforeSequence"/>
    /// (all when null), newest first; null when the tenant has no such account.
    /// </summary>
    Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken);
}
