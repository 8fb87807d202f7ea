namespace MeshBulkheads.Payments.Ledger;

/// <summary>The outcome of <see cref="ILedgerStore.ChargeAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="PaymentId">The (original) payment id, for <see cref="ChargeStatus.Recorded"/> and <see cref="ChargeStatus.Replayed"/>.</param>
/// <param name="BalanceMinor">The balance right after that payment; for <see cref="ChargeStatus.Overflow"/> the current balance.</param>
/// <param name="Conflicting">For <see cref="ChargeStatus.IdempotencyConflict"/> the earlier payload; for <see cref="ChargeStatus.CurrencyMismatch"/> it carries the account's currency.</param>
public sealed record ChargeResult(ChargeStatus Status, string? PaymentId = null, long BalanceMinor = 0, StoredCharge? Conflicting = null);
