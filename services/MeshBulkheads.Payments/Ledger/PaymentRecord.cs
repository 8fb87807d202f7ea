namespace MeshBulkheads.Payments.Ledger;

/// <summary>One recorded payment; <see cref="Sequence"/> increases with every insert and orders pages.</summary>
public sealed record PaymentRecord(long Sequence, string PaymentId, long AmountMinor, DateTimeOffset CreatedAt);
