using MeshBulkheads.Payments.Database;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The SQLite store's own choices: durability of the charge path, and which errors count as an idempotency race.</summary>
public sealed class SqliteLedgerStoreTests : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mesh-payments-tests", Guid.NewGuid().ToString("N")[..12]);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private SqliteLedgerStore? _store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChargePool_Connection_RunsSynchronousFull()
    {
        // Arrange
        var store = await CreateAsync();
        await store.ChargeAsync(new ChargeCommand("acme", "acct-1", 1, "USD", "k1"), Ct);

        // Act: the connection charges use (SQLite: the single writer)
        long synchronous;
        using (var lease = await store.ChargePool.AcquireAsync(Ct).DefaultTimeout())
        {
            await using var command = lease.Connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous";
            synchronous = (long)(await command.ExecuteScalarAsync(Ct))!;
        }

        // Assert: 2 = FULL (1 = NORMAL can lose an acknowledged commit on power loss)
        Assert.Equal(2, synchronous);
    }

    [Fact]
    public async Task ChargeAsync_NonUniqueConstraintFails_SurfacesTheErrorInsteadOfAnIdempotencyRace()
    {
        // Arrange: a trigger refusing one amount raises SQLITE_CONSTRAINT (19) with SQLITE_CONSTRAINT_TRIGGER (1811), not UNIQUE (2067).
        var store = await CreateAsync();
        await using (var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER refuse_13 BEFORE INSERT ON payments WHEN NEW.amount_minor = 13 BEGIN SELECT RAISE(ABORT, 'amount 13 refused'); END;";
            await command.ExecuteNonQueryAsync(Ct);
        }

        // Act
        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.ChargeAsync(new ChargeCommand("acme", "acct-1", 13, "USD", "k13"), Ct)).DefaultTimeout();
        var after = await store.ChargeAsync(new ChargeCommand("acme", "acct-1", 14, "USD", "k14"), Ct).DefaultTimeout();

        // Assert
        var sqlite = Assert.IsType<SqliteException>(error);
        Assert.Equal(1811, sqlite.SqliteExtendedErrorCode);
        Assert.Equal(ChargeStatus.Recorded, after.Status);
        Assert.Equal(14, after.BalanceMinor);
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Calls_BeforeTheSchemaIsCreated_UnavailableWithPushbackThenServed()
    {
        // Arrange: a fresh ledger whose warm-up has not run yet (Kestrel listens before the process is ready; a CI run
        // saw such an early GetBalance end as UNKNOWN on the missing table).
        var store = Create();

        // Act
        var read = await Assert.ThrowsAsync<DbUnavailableException>(() => store.GetBalanceAsync("acme", "acct-1", Ct)).DefaultTimeout();
        var charge = await Assert.ThrowsAsync<DbUnavailableException>(() => store.ChargeAsync(new ChargeCommand("acme", "acct-1", 1, "USD", "k1"), Ct)).DefaultTimeout();
        await store.InitializeAsync(Ct).DefaultTimeout();
        var after = await store.GetBalanceAsync("acme", "acct-1", Ct).DefaultTimeout();

        // Assert
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, read.Rejection.Status);
        Assert.Equal(MeshRejectReasons.DbUnavailable, read.Rejection.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), read.Rejection.RetryAfter);
        Assert.Contains("still warming up", read.Message, StringComparison.Ordinal);
        Assert.Equal("charge", charge.Pool);
        Assert.Null(after);
    }

    private SqliteLedgerStore Create()
    {
        var options = Options.Create(new PaymentsOptions { DataDirectory = _directory });
        _store = new SqliteLedgerStore(options, new DbPoolMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), TimeProvider.System);
        return _store;
    }

    private async Task<SqliteLedgerStore> CreateAsync()
    {
        var store = Create();
        await store.InitializeAsync(Ct).DefaultTimeout();
        return store;
    }
}
