using MeshBulkheads.Payments.Database;
using MeshBulkheads.Testing.Postgres;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The PostgreSQL ledger on the run's private server, each ledger a fresh database.</summary>
public sealed class PostgresBackend(PostgresFixture postgres) : LedgerBackend
{
    public override string DbSystem => DbPoolNames.Postgresql;

    public PostgresFixture Server => postgres;

    protected override string? UnavailableReason => postgres.UnavailableReason;

    public override async Task<Dictionary<string, string?>> NewLedgerAsync() =>
        new() { ["Payments:ConnectionString"] = await postgres.CreateDatabaseAsync() };
}
