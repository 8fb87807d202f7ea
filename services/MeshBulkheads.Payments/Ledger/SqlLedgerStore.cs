using System.Data.Common;
using MeshBulkheads.Payments.Database;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The ledger algorithm shared by SQLite and PostgreSQL. A charge runs in one transaction:
/// look up the idempotency key; create the account if missing (<c>INSERT … ON CONFLICT DO NOTHING</c>);
/// lock it (<see cref="LockClause"/>, or SQLite's single writer); check currency and overflow; insert
/// the payment and update the balance. The unique index on (tenant, idempotency key) is the final
/// arbiter across replicas: losing that race re-reads the winner and compares payloads.
/// </summary>
public abstract class SqlLedgerStore : ILedgerStore, IAsyncDisposable
{
    private readonly TimeProvider _timeProvider;

    protected SqlLedgerStore(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    /// <inheritdoc/>
    public abstract string DbSystem { get; }

    /// <summary>The pool for <c>Charge</c> (exposed for diagnostics and tests).</summary>
    public abstract DbConnectionPool ChargePool { get; }

    /// <summary>The pool for reads, separate so reads never take a charge's connection.</summary>
    public abstract DbConnectionPool ReadPool { get; }

    /// <summary>Appended to the account SELECT inside a charge to take a row lock (<c>FOR UPDATE</c>), or empty.</summary>
    protected abstract string LockClause { get; }

    /// <inheritdoc/>
    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Begins the charge transaction (SQLite: <c>BEGIN IMMEDIATE</c>, taking the write lock up front).</summary>
    protected abstract ValueTask<DbTransaction> BeginChargeAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="exception"/> is a unique-constraint violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <inheritdoc/>
    public async Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken)
    {
        using var lease = await ChargePool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("charge", DbSystem);
        var connection = lease.Connection;
        try
        {
            return await ChargeInTransactionAsync(connection, command, cancellationToken);
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            // Another replica (or connection) recorded this key between our check and our insert.
            var existing = await FindByKeyAsync(connection, null, command, cancellationToken)
                ?? throw new InvalidOperationException($"Idempotency key '{command.IdempotencyKey}' violated a unique index but no payment holds it.", ex);
            return Compare(existing, command);
        }
    }

    /// <inheritdoc/>
    public async Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken)
    {
        using var lease = await ReadPool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("get_balance", DbSystem);
        await using var command = Command(
            lease.Connection,
            null,
            "SELECT currency, balance_minor, payment_count FROM accounts WHERE tenant_id = @tenant AND account_id = @account",
            ("tenant", tenantId),
            ("account", accountId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new AccountBalance(accountId, reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <inheritdoc/>
    public async Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken)
    {
        using var lease = await ReadPool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("list_payments", DbSystem);
        var connection = lease.Connection;
        await using (var exists = Command(
            connection,
            null,
            "SELECT 1 FROM accounts WHERE tenant_id = @tenant AND account_id = @account",
            ("tenant", tenantId),
            ("account", accountId)))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return null;
            }
        }

        // Fetch one extra row to know whether another page exists.
        await using var command = Command(
            connection,
            null,
            "SELECT seq, payment_id, amount_minor, created_at_us FROM payments " +
            "WHERE tenant_id = @tenant AND account_id = @account AND seq < @before ORDER BY seq DESC LIMIT @limit",
            ("tenant", tenantId),
            ("account", accountId),
            ("before", beforeSequence ?? long.MaxValue),
            ("limit", (long)pageSize + 1));
        var payments = new List<PaymentRecord>(pageSize + 1);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                payments.Add(new PaymentRecord(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetInt64(2),
                    DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(3) * TimeSpan.TicksPerMicrosecond)));
            }
        }

        if (payments.Count > pageSize)
        {
            payments.RemoveAt(pageSize);
            return new PaymentPage(payments, payments[^1].Sequence);
        }

        return new PaymentPage(payments, null);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await ChargePool.DisposeAsync();
        await ReadPool.DisposeAsync();
        await DisposeBackendAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases backend resources after the pools are closed.</summary>
    protected virtual ValueTask DisposeBackendAsync() => ValueTask.CompletedTask;

    /// <summary>Creates a command with named parameters (<c>@name</c> works on both backends).</summary>
    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private async Task<ChargeResult> ChargeInTransactionAsync(DbConnection connection, ChargeCommand charge, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginChargeAsync(connection, cancellationToken);

        // Fast path for replays: no account lock needed.
        var existing = await FindByKeyAsync(connection, transaction, charge, cancellationToken);
        if (existing is not null)
        {
            return Compare(existing, charge);
        }

        // The first charge creates the account and fixes its currency; a racing creator wins harmlessly.
        await using (var create = Command(
            connection,
            transaction,
            "INSERT INTO accounts (tenant_id, account_id, currency, balance_minor, payment_count) " +
            "VALUES (@tenant, @account, @currency, 0, 0) ON CONFLICT (tenant_id, account_id) DO NOTHING",
            ("tenant", charge.TenantId),
            ("account", charge.AccountId),
            ("currency", charge.Currency)))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        string currency;
        long balance;
        await using (var select = Command(
            connection,
            transaction,
            "SELECT currency, balance_minor FROM accounts WHERE tenant_id = @tenant AND account_id = @account" + LockClause,
            ("tenant", charge.TenantId),
            ("account", charge.AccountId)))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"Account '{charge.AccountId}' vanished inside its charge transaction.");
            }

            currency = reader.GetString(0);
            balance = reader.GetInt64(1);
        }

        // Returning without Commit rolls back, so a refused first charge leaves no account behind.
        if (!string.Equals(currency, charge.Currency, StringComparison.Ordinal))
        {
            return new ChargeResult(ChargeStatus.CurrencyMismatch, BalanceMinor: balance, Conflicting: new StoredCharge(string.Empty, charge.AccountId, 0, currency, balance));
        }

        // Avoid overflow by subtraction (amounts are positive).
        if (balance > long.MaxValue - charge.AmountMinor)
        {
            return new ChargeResult(ChargeStatus.Overflow, BalanceMinor: balance);
        }

        var newBalance = balance + charge.AmountMinor;
        var paymentId = Guid.NewGuid().ToString();
        var createdAt = (_timeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        await using (var insert = Command(
            connection,
            transaction,
            "INSERT INTO payments (payment_id, tenant_id, account_id, amount_minor, currency, idempotency_key, balance_after_minor, created_at_us) " +
            "VALUES (@id, @tenant, @account, @amount, @currency, @key, @balance, @created)",
            ("id", paymentId),
            ("tenant", charge.TenantId),
            ("account", charge.AccountId),
            ("amount", charge.AmountMinor),
            ("currency", charge.Currency),
            ("key", charge.IdempotencyKey),
            ("balance", newBalance),
            ("created", createdAt)))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var update = Command(
            connection,
            transaction,
            "UPDATE accounts SET balance_minor = @balance, payment_count = payment_count + 1 WHERE tenant_id = @tenant AND account_id = @account",
            ("balance", newBalance),
            ("tenant", charge.TenantId),
            ("account", charge.AccountId)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new ChargeResult(ChargeStatus.Recorded, paymentId, newBalance);
    }

    private static async Task<StoredCharge?> FindByKeyAsync(DbConnection connection, DbTransaction? transaction, ChargeCommand charge, CancellationToken cancellationToken)
    {
        await using var command = Command(
            connection,
            transaction,
            "SELECT payment_id, account_id, amount_minor, currency, balance_after_minor FROM payments WHERE tenant_id = @tenant AND idempotency_key = @key",
            ("tenant", charge.TenantId),
            ("key", charge.IdempotencyKey));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredCharge(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4));
    }

    private static ChargeResult Compare(StoredCharge existing, ChargeCommand charge)
    {
        var samePayload = string.Equals(existing.AccountId, charge.AccountId, StringComparison.Ordinal)
            && existing.AmountMinor == charge.AmountMinor
            && string.Equals(existing.Currency, charge.Currency, StringComparison.Ordinal);
        return samePayload
            ? new ChargeResult(ChargeStatus.Replayed, existing.PaymentId, existing.BalanceAfterMinor)
            : new ChargeResult(ChargeStatus.IdempotencyConflict, Conflicting: existing);
    }
}
