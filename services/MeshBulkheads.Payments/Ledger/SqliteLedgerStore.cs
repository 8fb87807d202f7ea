using System.Data.Common;
using MeshBulkheads.Payments.Database;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The embedded ledger: <c>payments.db</c> under <see cref="PaymentsOptions.DataDirectory"/>, WAL mode.
/// SQLite has one writer at a time, so the charge pool is a single writer connection: waiting for the
/// write lock shows up as pool wait, not as query time. Reads use a small pool of their own
/// (WAL lets them run beside the writer). Another process on the same file is handled by
/// <c>busy_timeout</c> and <c>BEGIN IMMEDIATE</c>.
/// </summary>
public sealed class SqliteLedgerStore : SqlLedgerStore
{
    private const int BusyTimeoutMs = 5000;

    private readonly string _connectionString;

    public SqliteLedgerStore(IOptions<PaymentsOptions> options, DbPoolMetrics metrics, TimeProvider timeProvider)
        : base(timeProvider)
    {
        var value = options.Value;
        var directory = Path.GetFullPath(value.DataDirectory);
        Directory.CreateDirectory(directory);
        DatabasePath = Path.Combine(directory, "payments.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Our own pool keeps connections open; no second pool underneath.
            Pooling = false,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();

        var maxWait = value.Database.MaxPoolWait;
        ChargePool = new DbConnectionPool(DbPoolNames.Charge, DbPoolNames.Sqlite, 1, maxWait, OpenAsync, metrics, timeProvider);
        ReadPool = new DbConnectionPool(DbPoolNames.Read, DbPoolNames.Sqlite, value.Database.ReadPoolSize, maxWait, OpenAsync, metrics, timeProvider);
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc/>
    public override string DbSystem => DbPoolNames.Sqlite;

    /// <inheritdoc/>
    public override DbConnectionPool ChargePool { get; }

    /// <inheritdoc/>
    public override DbConnectionPool ReadPool { get; }

    /// <inheritdoc/>
    protected override string LockClause => string.Empty;

    /// <inheritdoc/>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);

        // BEGIN IMMEDIATE: two processes creating the schema at once take turns.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = Command(connection, transaction, """
            CREATE TABLE IF NOT EXISTS accounts (
                tenant_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                currency TEXT NOT NULL,
                balance_minor INTEGER NOT NULL,
                payment_count INTEGER NOT NULL,
                PRIMARY KEY (tenant_id, account_id));
            CREATE TABLE IF NOT EXISTS payments (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                payment_id TEXT NOT NULL UNIQUE,
                tenant_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                amount_minor INTEGER NOT NULL,
                currency TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                balance_after_minor INTEGER NOT NULL,
                created_at_us INTEGER NOT NULL,
                UNIQUE (tenant_id, idempotency_key));
            CREATE INDEX IF NOT EXISTS payments_by_account ON payments (tenant_id, account_id, seq);
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async ValueTask<DbTransaction> BeginChargeAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // Microsoft.Data.Sqlite begins non-deferred transactions with BEGIN IMMEDIATE.
        await connection.BeginTransactionAsync(cancellationToken);

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // AUTOINCREMENT keeps seq monotonic (never reused); NORMAL is durable enough in WAL mode.
            await ExecuteAsync(connection, $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous=NORMAL;", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
