namespace MeshBulkheads.Payments.Ledger;

/// <summary>An account's balance.</summary>
public sealed record AccountBalance(string AccountId, string Currency, long BalanceMinor, long PaymentCount);
