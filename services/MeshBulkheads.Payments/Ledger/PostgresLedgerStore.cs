using System.Data.Common;
using MeshBulkheads.Payments.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The PostgreSQL ledger (used when <see cref="PaymentsOptions.ConnectionString"/> is set).
/// Per-account serializability is a row lock (<c>SELECT … FOR UPDATE</c>), idempotency a unique
/// index, so both hold across replicas. Migrations run under <c>pg_advisory_xact_lock</c>.
/// </summary>
public sealed class PostgresLedgerStore : SqlLedgerStore
{
    // An arbitrary constant shared by every replica: "MeshPaym" in ASCII.
    private const long MigrationLockKey = 0x4D657368_5061796D;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresLedgerStore(IOptions<PaymentsOptions> options, DbPoolMetrics metrics, TimeProvider timeProvider)
        : base(timeProvider)
    {
        var value = options.Value;
        var builder = new NpgsqlDataSourceBuilder(value.ConnectionString);
        // Our pools bound the connections; Npgsql's pool underneath only needs room for them and migrations.
        var needed = value.Database.ChargePoolSize + value.Database.ReadPoolSize + 1;
        if (builder.ConnectionStringBuilder.MaxPoolSize < needed)
        {
            builder.ConnectionStringBuilder.MaxPoolSize = needed;
        }

        _dataSource = builder.Build();
        var maxWait = value.Database.MaxPoolWait;
        ChargePool = new DbConnectionPool(DbPoolNames.Charge, DbPoolNames.Postgresql, value.Database.ChargePoolSize, maxWait, OpenAsync, metrics, timeProvider);
        ReadPool = new DbConnectionPool(DbPoolNames.Read, DbPoolNames.Postgresql, value.Database.ReadPoolSize, maxWait, OpenAsync, metrics, timeProvider);
    }

    /// <inheritdoc/>
    public override string DbSystem => DbPoolNames.Postgresql;

    /// <inheritdoc/>
    public override DbConnectionPool ChargePool { get; }

    /// <inheritdoc/>
    public override DbConnectionPool ReadPool { get; }

    /// <inheritdoc/>
    protected override string LockClause => " FOR UPDATE";

    /// <inheritdoc/>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (pg_type unique violation):
        // replicas starting together take turns on this lock, released at commit.
        await using (var lockCommand = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", ("key", MigrationLockKey)))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = Command(connection, transaction, """
            CREATE TABLE IF NOT EXISTS accounts (
                tenant_id text NOT NULL,
                account_id text NOT NULL,
                currency text NOT NULL,
                balance_minor bigint NOT NULL,
                payment_count bigint NOT NULL,
                PRIMARY KEY (tenant_id, account_id));
            CREATE TABLE IF NOT EXISTS payments (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                payment_id text NOT NULL UNIQUE,
                tenant_id text NOT NULL,
                account_id text NOT NULL,
                amount_minor bigint NOT NULL,
                currency text NOT NULL,
                idempotency_key text NOT NULL,
                balance_after_minor bigint NOT NULL,
                created_at_us bigint NOT NULL,
                UNIQUE (tenant_id, idempotency_key));
            CREATE INDEX IF NOT EXISTS payments_by_account ON payments (tenant_id, account_id, seq);
            """))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async ValueTask<DbTransaction> BeginChargeAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // READ COMMITTED + the account row lock: after the lock, statements see the previous charge's commit.
        await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <inheritdoc/>
    protected override ValueTask DisposeBackendAsync() => _dataSource.DisposeAsync();

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);
}
