namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The ledger contract on PostgreSQL (a private server started once per run).</summary>
[Collection(LedgerCollection.Name)]
public sealed class PostgresLedgerTests(PostgresBackend backend) : LedgerContractTests(backend), IClassFixture<PostgresBackend>
{
}
