namespace MeshBulkheads.Payments.Database;

/// <summary>The two connection-pool partitions and the database systems, as they appear in tags.</summary>
public static class DbPoolNames
{
    /// <summary>The pool used by <c>Charge</c> (critical work).</summary>
    public const string Charge = "charge";

    /// <summary>The pool used by <c>GetBalance</c> and <c>ListPayments</c> (sheddable work).</summary>
    public const string Read = "read";

    /// <summary>The embedded SQLite ledger.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>The PostgreSQL ledger.</summary>
    public const string Postgresql = "postgresql";
}
