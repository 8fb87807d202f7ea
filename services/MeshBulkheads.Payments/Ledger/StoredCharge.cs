namespace MeshBulkheads.Payments.Ledger;

/// <summary>The payload stored with an idempotency key.</summary>
public sealed record StoredCharge(string PaymentId, string AccountId, long AmountMinor, string Currency, long BalanceAfterMinor);
