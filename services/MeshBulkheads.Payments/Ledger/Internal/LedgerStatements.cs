namespace MeshBulkheads.Payments.Ledger.Internal;

/// <summary>
/// The SQL the ledger runs, the same text on SQLite and PostgreSQL (named <c>@parameters</c>, <c>ON CONFLICT</c>,
/// <c>LIMIT</c>), the one schema in each backend's column types, and how a timestamp is stored.
/// </summary>
internal static class LedgerStatements
{
    /// <summary>The schema, idempotent; a backend names its text and 64-bit integer types and its monotonic sequence column.</summary>
    /// <param name="text">SQLite <c>TEXT</c>, PostgreSQL <c>text</c>.</param>
    /// <param name="int64">SQLite <c>INTEGER</c>, PostgreSQL <c>bigint</c>.</param>
    /// <param name="sequenceColumn">The <c>seq</c> column: increases with every insert and is never reused (pages are ordered by it).</param>
    public static string CreateSchema(string text, string int64, string sequenceColumn) => $"""
        CREATE TABLE IF NOT EXISTS accounts (
            tenant_id {text} NOT NULL,
            account_id {text} NOT NULL,
            currency {text} NOT NULL,
            balance_minor {int64} NOT NULL,
            payment_count {int64} NOT NULL,
            PRIMARY KEY (tenant_id, account_id));
        CREATE TABLE IF NOT EXISTS payments (
            {sequenceColumn},
            payment_id {text} NOT NULL UNIQUE,
            tenant_id {text} NOT NULL,
            account_id {text} NOT NULL,
            amount_minor {int64} NOT NULL,
            currency {text} NOT NULL,
            idempotency_key {text} NOT NULL,
            balance_after_minor {int64} NOT NULL,
            created_at_us {int64} NOT NULL,
            UNIQUE (tenant_id, idempotency_key));
        CREATE INDEX IF NOT EXISTS payments_by_account ON payments (tenant_id, account_id, seq);
        """;

    public const string SelectBalance =
        "SELECT currency, balance_minor, payment_count FROM accounts WHERE tenant_id = @tenant AND account_id = @account";

    public const string AccountExists =
        "SELECT 1 FROM accounts WHERE tenant_id = @tenant AND account_id = @account";

    /// <summary>Newest first below <c>@before</c>; the caller asks for one row more than a page to know whether another page exists.</summary>
    public const string SelectPaymentsPage =
        "SELECT seq, payment_id, amount_minor, created_at_us FROM payments " +
        "WHERE tenant_id = @tenant AND account_id = @account AND seq < @before ORDER BY seq DESC LIMIT @limit";

    public const string SelectByIdempotencyKey =
        "SELECT payment_id, account_id, amount_minor, currency, balance_after_minor FROM payments WHERE tenant_id = @tenant AND idempotency_key = @key";

    /// <summary>The first charge creates the account and fixes its currency; a racing creator wins harmlessly.</summary>
    public const string InsertAccountIfMissing =
        "INSERT INTO accounts (tenant_id, account_id, currency, balance_minor, payment_count) " +
        "VALUES (@tenant, @account, @currency, 0, 0) ON CONFLICT (tenant_id, account_id) DO NOTHING";

    /// <summary>Inside the charge transaction; the backend appends its row-lock clause (PostgreSQL <c>FOR UPDATE</c>).</summary>
    public const string SelectAccountForCharge =
        "SELECT currency, balance_minor FROM accounts WHERE tenant_id = @tenant AND account_id = @account";

    public const string InsertPayment =
        "INSERT INTO payments (payment_id, tenant_id, account_id, amount_minor, currency, idempotency_key, balance_after_minor, created_at_us) " +
        "VALUES (@id, @tenant, @account, @amount, @currency, @key, @balance, @created)";

    public const string UpdateBalance =
        "UPDATE accounts SET balance_minor = @balance, payment_count = payment_count + 1 WHERE tenant_id = @tenant AND account_id = @account";

    /// <summary>A payment's time as stored in <c>created_at_us</c>: microseconds since the Unix epoch (both backends keep 64-bit integers exactly).</summary>
    public static long ToStoredTime(DateTimeOffset value) => (value - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>The inverse of <see cref="ToStoredTime"/>.</summary>
    public static DateTimeOffset FromStoredTime(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);
}
