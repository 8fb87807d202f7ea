namespace MeshBulkheads.Payments.Ledger;

/// <summary>A charge as the store sees it: already validated, scoped to a tenant.</summary>
public sealed record ChargeCommand(string TenantId, string AccountId, long AmountMinor, string Currency, string IdempotencyKey);

/// <summary>What happened to a charge.</summary>
public enum ChargeStatus
{
    /// <summary>A new payment was recorded.</summary>
    Recorded,

    /// <summary>The idempotency key was seen with the same payload; the original payment is returned.</summary>
    Replayed,

    /// <summary>The account exists with another currency.</summary>
    CurrencyMismatch,

    /// <summary>The balance would overflow a 64-bit integer.</summary>
    Overflow,

    /// <summary>The idempotency key was used before with a different payload.</summary>
    IdempotencyConflict,
}

/// <summary>The outcome of <see cref="ILedgerStore.ChargeAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="PaymentId">The (original) payment id, for <see cref="ChargeStatus.Recorded"/> and <see cref="ChargeStatus.Replayed"/>.</param>
/// <param name="BalanceMinor">The balance right after that payment; for <see cref="ChargeStatus.Overflow"/> the current balance.</param>
/// <param name="Conflicting">For <see cref="ChargeStatus.IdempotencyConflict"/> the earlier payload; for <see cref="ChargeStatus.CurrencyMismatch"/> it carries the account's currency.</param>
public sealed record ChargeResult(ChargeStatus Status, string? PaymentId = null, long BalanceMinor = 0, StoredCharge? Conflicting = null);

/// <summary>The payload stored with an idempotency key.</summary>
public sealed record StoredCharge(string PaymentId, string AccountId, long AmountMinor, string Currency, long BalanceAfterMinor);

/// <summary>An account's balance.</summary>
public sealed record AccountBalance(string AccountId, string Currency, long BalanceMinor, long PaymentCount);

/// <summary>One recorded payment; <see cref="Sequence"/> increases with every insert and orders pages.</summary>
public sealed record PaymentRecord(long Sequence, string PaymentId, long AmountMinor, DateTimeOffset CreatedAt);

/// <summary>A page of payments, newest first; <see cref="NextBeforeSequence"/> is null on the last page.</summary>
public sealed record PaymentPage(IReadOnlyList<PaymentRecord> Payments, long? NextBeforeSequence);
