namespace MeshBulkheads.Payments.Partitions;

/// <summary>What a queued charge is, for hooks and logs.</summary>
/// <param name="Partition">The mailbox index (0 in the global-queue pitfall, which has one queue).</param>
/// <param name="Consumer">The consumer that took it (-1 before it was taken).</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="AccountId">The account.</param>
/// <param name="IdempotencyKey">The charge's idempotency key.</param>
public sealed record PartitionWorkInfo(int Partition, int Consumer, string TenantId, string AccountId, string IdempotencyKey);
