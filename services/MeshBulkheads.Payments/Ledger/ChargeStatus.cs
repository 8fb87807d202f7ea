namespace MeshBulkheads.Payments.Ledger;

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
