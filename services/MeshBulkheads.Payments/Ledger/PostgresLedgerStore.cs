using System.Data.Common;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger.Internal;
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
        // Idle connections are pinged before reuse once idle ValidateIdleAfter; a broken one also clears Npgsql's
        // own idle connectors (after a server restart they are dead too).
        var health = Health(value.Database.ValidateIdleAfter, () => _dataSource.Clear());
        ChargePool = new DbConnectionPool(DbPoolNames.Charge, DbPoolNames.Postgresql, value.Database.ChargePoolSize, maxWait, OpenAsync, metrics, timeProvider, health);
        ReadPool = new DbConnectionPool(DbPoolNames.Read, DbPoolNames.Postgresql, value.Database.ReadPoolSize, maxWait, OpenAsync, metrics, timeProvider, health);
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
    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (pg_type unique violation):
        // replicas starting together take turns on this lock, released at commit.
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey));
        await ExecuteAsync(connection, transaction, LedgerStatements.CreateSchema("text", "bigint", "seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"), cancellationToken);
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
    protected override bool IsConnectionFailure(Exception exception) => exception switch
    {
        // Class 08 (connection exception); 57P01-57P03: the server is shutting down, crashed or starting.
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03",
        // Npgsql's own errors that are not server errors: I/O, refused connection, a connector already broken.
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException || npgsql.Message.Contains("broken", StringComparison.OrdinalIgnoreCase),
        InvalidOperationException when exception.Message.Contains("connection is not open", StringComparison.OrdinalIgnoreCase) => true,
        _ => false,
    };

    /// <inheritdoc/>
    protected override ValueTask DisposeBackendAsync() => _dataSource.DisposeAsync();

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);
}
