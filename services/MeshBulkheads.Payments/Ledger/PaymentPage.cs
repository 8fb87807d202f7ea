namespace MeshBulkheads.Payments.Ledger;

/// <summary>A page of payments, newest first; <see cref="NextBeforeSequence"/> is null on the last page.</summary>
public sealed record PaymentPage(IReadOnlyList<PaymentRecord> Payments, long? NextBeforeSequence);
