using MeshBulkheads.Testing.Postgres;

// One private PostgreSQL server for the whole run (≈ 1 s); each test class gets its own database.
[assembly: AssemblyFixture(typeof(PostgresFixture))]
