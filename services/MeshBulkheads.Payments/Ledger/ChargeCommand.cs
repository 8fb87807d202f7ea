namespace MeshBulkheads.Payments.Ledger;

/// <summary>A charge as the store sees it: already validated, scoped to a tenant.</summary>
public sealed record ChargeCommand(string TenantId, string AccountId, long AmountMinor, string Currency, string IdempotencyKey);
