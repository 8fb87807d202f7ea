namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The ledger contract on the embedded SQLite backend.</summary>
[Collection(LedgerCollection.Name)]
public sealed class SqliteLedgerTests(SqliteBackend backend) : LedgerContractTests(backend), IClassFixture<SqliteBackend>
{
}
