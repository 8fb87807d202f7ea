using System.Data.Common;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger.Internal;
using Microsoft.Data.Sqlite;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The embedded ledger: <c>payments.db</c> under <see cref="PaymentsOptions.DataDirectory"/>, WAL mode,
/// <c>synchronous=FULL</c> on the writer connection (an acknowledged charge survives power loss).
/// SQLite has one writer at a time, so the charge pool is a single writer connection: waiting for the
/// write lock shows up as pool wait, not as query time. Reads use a small pool of their own
/// (WAL lets them run beside the writer). Another process on the same file is handled by
/// <c>busy_timeout</c> and <c>BEGIN IMMEDIATE</c>.
/// </summary>
public sealed class SqliteLedgerStore : SqlLedgerStore
{
    private const int BusyTimeoutMs = 5000;

    // The writer (charges, schema, seed) syncs the WAL on every commit: with NORMAL a commit acknowledged to
    // the caller can be lost on power loss or an OS crash. Readers never commit writes, so NORMAL costs them nothing.
    private const string ChargeSynchronous = "FULL";
    private const string ReadSynchronous = "NORMAL";

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
        ChargePool = new DbConnectionPool(DbPoolNames.Charge, DbPoolNames.Sqlite, 1, maxWait, ct => OpenAsync(ChargeSynchronous, ct), metrics, timeProvider);
        ReadPool = new DbConnectionPool(DbPoolNames.Read, DbPoolNames.Sqlite, value.Database.ReadPoolSize, maxWait, ct => OpenAsync(ReadSynchronous, ct), metrics, timeProvider);
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
    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(ChargeSynchronous, cancellationToken);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", cancellationToken);

        // BEGIN IMMEDIATE: two processes creating the schema at once take turns.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // AUTOINCREMENT keeps seq monotonic (never reused).
        await ExecuteAsync(connection, transaction, LedgerStatements.CreateSchema("TEXT", "INTEGER", "seq INTEGER PRIMARY KEY AUTOINCREMENT"), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async ValueTask<DbTransaction> BeginChargeAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // Microsoft.Data.Sqlite begins non-deferred transactions with BEGIN IMMEDIATE.
        await connection.BeginTransactionAsync(cancellationToken);

    /// <inheritdoc/>
    protected override bool IsUniqueViolation(DbException exception) =>
        // SQLITE_CONSTRAINT_UNIQUE only: NOT NULL, CHECK, trigger or foreign-key failures (all primary code 19,
        // SQLITE_CONSTRAINT) are not an idempotency race and must surface as they are.
        exception is SqliteException { SqliteExtendedErrorCode: SqliteConstraintUnique };

    /// <summary>SQLite's extended result code for a UNIQUE constraint violation.</summary>
    private const int SqliteConstraintUnique = 2067;

    private async Task<DbConnection> OpenAsync(string synchronous, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, null, $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous={synchronous};", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
