namespace MeshBulkheads.Payments;

/// <summary>Source-generated log messages of the payments service.</summary>
internal static partial class PaymentsLog
{
    [LoggerMessage(1, LogLevel.Information, "Ledger schema ready on {DbSystem}.", EventName = nameof(SchemaReady))]
    public static partial void SchemaReady(ILogger logger, string dbSystem);

    [LoggerMessage(2, LogLevel.Information, "Seeded tenant {Tenant}: {Recorded} payments recorded, {Replayed} already present.", EventName = nameof(TenantSeeded))]
    public static partial void TenantSeeded(ILogger logger, string tenant, int recorded, int replayed);

    [LoggerMessage(3, LogLevel.Warning, "Seed charge {IdempotencyKey} for tenant {Tenant} was refused: {Status}.", EventName = nameof(SeedChargeRefused))]
    public static partial void SeedChargeRefused(ILogger logger, string tenant, string idempotencyKey, string status);

    [LoggerMessage(4, LogLevel.Warning, "Database pool '{Pool}' exhausted: {Message} ({Suppressed} more since the previous line; at most one line per 10 s)", EventName = nameof(PoolTimeout))]
    public static partial void PoolTimeout(ILogger logger, string pool, string message, long suppressed);

    [LoggerMessage(5, LogLevel.Information, "Payments ledger: {DbSystem} ({Location}).", EventName = nameof(LedgerSelected))]
    public static partial void LedgerSelected(ILogger logger, string dbSystem, string location);

    [LoggerMessage(6, LogLevel.Error, "Charge partition {Partition} (consumer {Consumer}) failed a charge with an unexpected error; the consumer goes on.", EventName = nameof(PartitionWorkFailed))]
    public static partial void PartitionWorkFailed(ILogger logger, int partition, int consumer, Exception exception);

    [LoggerMessage(7, LogLevel.Critical, "Charge partition {Partition} (consumer {Consumer}) stopped unexpectedly; its mailbox is no longer drained.", EventName = nameof(PartitionConsumerStopped))]
    public static partial void PartitionConsumerStopped(ILogger logger, int partition, int consumer, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Database unavailable for pool '{Pool}': {Message} ({Suppressed} more since the previous line; at most one line per 10 s)", EventName = nameof(DatabaseUnavailable))]
    public static partial void DatabaseUnavailable(ILogger logger, string pool, string message, long suppressed);

    [LoggerMessage(9, LogLevel.Warning, "No page-token keys configured ({Section}:Keys): this process sealed ListPayments page tokens with a random key of its own; they do not survive a restart and another replica refuses them. Give every replica the same keys (the chart's page-token Secret).", EventName = nameof(PageTokenKeyGenerated))]
    public static partial void PageTokenKeyGenerated(ILogger logger, string section);
}
