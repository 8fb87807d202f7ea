using MeshBulkheads.Payments.Database;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The embedded SQLite ledger, each ledger in its own temp directory.</summary>
public sealed class SqliteBackend : LedgerBackend
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mesh-payments-tests", Guid.NewGuid().ToString("N")[..12]);
    private int _ledgers;

    public override string DbSystem => DbPoolNames.Sqlite;

    public override Task<Dictionary<string, string?>> NewLedgerAsync()
    {
        var directory = Path.Combine(_root, Interlocked.Increment(ref _ledgers).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Task.FromResult(new Dictionary<string, string?> { ["Payments:DataDirectory"] = directory });
    }

    protected override ValueTask DisposeLedgersAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
