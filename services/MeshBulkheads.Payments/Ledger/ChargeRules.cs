namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The decisions a charge takes once the store has read what it needs, free of any database: replay or conflict
/// for a known idempotency key, and whether a new charge may post to the account.
/// </summary>
public static class ChargeRules
{
    /// <summary>The outcome of a charge whose idempotency key is already recorded.</summary>
    /// <param name="existing">The payload recorded with the key.</param>
    /// <param name="charge">The charge asking again.</param>
    /// <returns>
    /// <see cref="ChargeStatus.Replayed"/> with the original payment and balance when account, amount and currency are
    /// the same (compared ordinally); otherwise <see cref="ChargeStatus.IdempotencyConflict"/> carrying the earlier payload.
    /// </returns>
    public static ChargeResult Replay(StoredCharge existing, ChargeCommand charge)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(charge);
        var samePayload = string.Equals(existing.AccountId, charge.AccountId, StringComparison.Ordinal)
            && existing.AmountMinor == charge.AmountMinor
            && string.Equals(existing.Currency, charge.Currency, StringComparison.Ordinal);
        return samePayload
            ? new ChargeResult(ChargeStatus.Replayed, existing.PaymentId, existing.BalanceAfterMinor)
            : new ChargeResult(ChargeStatus.IdempotencyConflict, Conflicting: existing);
    }

    /// <summary>Why a new charge may not post to the account, or null when it may.</summary>
    /// <param name="charge">The new charge (a positive amount).</param>
    /// <param name="accountCurrency">The account's currency, fixed by its first charge.</param>
    /// <param name="balanceMinor">The account's balance before the charge.</param>
    /// <returns>
    /// <see cref="ChargeStatus.CurrencyMismatch"/> (the account's currency in <see cref="ChargeResult.Conflicting"/>) when the
    /// currencies differ; else <see cref="ChargeStatus.Overflow"/> with the current balance when the new balance would not
    /// fit in 64 bits; else null.
    /// </returns>
    public static ChargeResult? Refusal(ChargeCommand charge, string accountCurrency, long balanceMinor)
    {
        ArgumentNullException.ThrowIfNull(charge);
        if (!string.Equals(accountCurrency, charge.Currency, StringComparison.Ordinal))
        {
            return new ChargeResult(ChargeStatus.CurrencyMismatch, BalanceMinor: balanceMinor, Conflicting: new StoredCharge(string.Empty, charge.AccountId, 0, accountCurrency, balanceMinor));
        }

        // Avoid overflow by subtraction (amounts are positive).
        if (balanceMinor > long.MaxValue - charge.AmountMinor)
        {
            return new ChargeResult(ChargeStatus.Overflow, BalanceMinor: balanceMinor);
        }

        return null;
    }
}
