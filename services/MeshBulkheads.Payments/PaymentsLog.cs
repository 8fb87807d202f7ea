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

    [LoggerMessage(4, LogLevel.Warning, "Database pool '{Pool}' exhausted: {Message}", EventName = nameof(PoolTimeout))]
    public static partial void PoolTimeout(ILogger logger, string pool, string message);

    [LoggerMessage(5, LogLevel.Information, "Payments ledger: {DbSystem} ({Location}).", EventName = nameof(LedgerSelected))]
    public static partial void LedgerSelected(ILogger logger, string dbSystem, string location);
}
