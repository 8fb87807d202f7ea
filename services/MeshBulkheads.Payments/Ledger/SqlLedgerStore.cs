using System.Data.Common;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger.Internal;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The ledger algorithm shared by SQLite and PostgreSQL. A charge runs in one transaction:
/// look up the idempotency key; create the account if missing (<c>INSERT … ON CONFLICT DO NOTHING</c>);
/// lock it (<see cref="LockClause"/>, or SQLite's single writer); check currency and overflow; insert
/// the payment and update the balance. The unique index on (tenant, idempotency key) is the final
/// arbiter across replicas: losing that race re-reads the winner and compares payloads.
/// The SQL is in <see cref="LedgerStatements"/> and the decisions (replay, conflict, currency, overflow) in
/// <see cref="ChargeRules"/>; this class runs them against a connection.
/// </summary>
public abstract class SqlLedgerStore : ILedgerStore, IAsyncDisposable
{
    /// <summary>The pushback of a call that arrives before the schema exists: warm-up takes milliseconds to seconds.</summary>
    private static readonly TimeSpan WarmingUpRetryAfter = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _timeProvider;
    private volatile bool _schemaReady;

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
    /// <remarks>
    /// Until it has finished, every call is refused with <c>UNAVAILABLE</c> <c>db-unavailable</c> and a pushback: a call
    /// that reaches a process still warming up (Kestrel listens before the process is ready) would otherwise hit a
    /// missing table and end as <c>UNKNOWN</c>.
    /// </remarks>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await CreateSchemaAsync(cancellationToken);
        _schemaReady = true;
    }

    /// <summary>Creates the schema if it is missing; safe against a twin doing the same at the same time.</summary>
    protected abstract Task CreateSchemaAsync(CancellationToken cancellationToken);

    /// <summary>Begins the charge transaction (SQLite: <c>BEGIN IMMEDIATE</c>, taking the write lock up front).</summary>
    protected abstract ValueTask<DbTransaction> BeginChargeAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="exception"/> is a unique-constraint violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <inheritdoc/>
    public async Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken)
    {
        EnsureSchema(ChargePool);
        using var lease = await ChargePool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("charge", DbSystem);
        return await GuardAsync(ChargePool, lease, activity, async connection =>
        {
            try
            {
                return await ChargeInTransactionAsync(connection, command, cancellationToken);
            }
            catch (DbException ex) when (IsUniqueViolation(ex))
            {
                // Another replica (or connection) recorded this key between our check and our insert.
                var existing = await FindByKeyAsync(connection, null, command, cancellationToken)
                    ?? throw new InvalidOperationException($"Idempotency key '{command.IdempotencyKey}' violated a unique index but no payment holds it.", ex);
                return ChargeRules.Replay(existing, command);
            }
        });
    }

    /// <inheritdoc/>
    public async Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken)
    {
        EnsureSchema(ReadPool);
        using var lease = await ReadPool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("get_balance", DbSystem);
        return await GuardAsync(ReadPool, lease, activity, connection => GetBalanceAsync(connection, tenantId, accountId, cancellationToken));
    }

    /// <inheritdoc/>
    public async Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken)
    {
        EnsureSchema(ReadPool);
        using var lease = await ReadPool.AcquireAsync(cancellationToken);
        using var activity = PaymentsTelemetry.StartQuery("list_payments", DbSystem);
        return await GuardAsync(ReadPool, lease, activity, connection => ListPaymentsAsync(connection, tenantId, accountId, pageSize, beforeSequence, cancellationToken));
    }

    /// <summary>True when <paramref name="exception"/> means the connection or server is gone (not a failed statement).</summary>
    protected virtual bool IsConnectionFailure(Exception exception) => false;

    /// <summary>Pool health for this backend: how to recognise a broken connection, when to ping idle ones.</summary>
    protected DbPoolHealth Health(TimeSpan validateIdleAfter, Action? onBroken = null) => new(IsConnectionFailure, validateIdleAfter, onBroken);

    private void EnsureSchema(DbConnectionPool pool)
    {
        if (!_schemaReady)
        {
            throw new DbUnavailableException(
                pool.Name, $"The {DbSystem} ledger's schema is not created yet: payments is still warming up (it reports ready once it is).", WarmingUpRetryAfter);
        }
    }

    private static async Task<T> GuardAsync<T>(DbConnectionPool pool, DbConnectionLease lease, System.Diagnostics.Activity? activity, Func<DbConnection, Task<T>> body)
    {
        try
        {
            return await body(lease.Connection);
        }
        catch (Exception ex) when (pool.ConnectionFailure(ex) is { } unavailable)
        {
            // A broken connection is never returned to the pool; the caller gets UNAVAILABLE, not INTERNAL.
            lease.Discard();
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "db-unavailable");
            throw unavailable;
        }
    }

    private static async Task<AccountBalance?> GetBalanceAsync(DbConnection connection, string tenantId, string accountId, CancellationToken cancellationToken)
    {
        await using var command = Command(
            connection,
            null,
            LedgerStatements.SelectBalance,
            ("tenant", tenantId),
            ("account", accountId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new AccountBalance(accountId, reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private static async Task<PaymentPage?> ListPaymentsAsync(DbConnection connection, string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken)
    {
        await using (var exists = Command(
            connection,
            null,
            LedgerStatements.AccountExists,
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
            LedgerStatements.SelectPaymentsPage,
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
                    LedgerStatements.FromStoredTime(reader.GetInt64(3))));
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

    /// <summary>Runs a statement that returns no rows, with named parameters.</summary>
    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

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
            return ChargeRules.Replay(existing, charge);
        }

        await ExecuteAsync(
            connection,
            transaction,
            LedgerStatements.InsertAccountIfMissing,
            cancellationToken,
            ("tenant", charge.TenantId),
            ("account", charge.AccountId),
            ("currency", charge.Currency));

        string currency;
        long balance;
        await using (var select = Command(
            connection,
            transaction,
            LedgerStatements.SelectAccountForCharge + LockClause,
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
        if (ChargeRules.Refusal(charge, currency, balance) is { } refusal)
        {
            return refusal;
        }

        var newBalance = balance + charge.AmountMinor;
        var paymentId = Guid.NewGuid().ToString();
        var createdAt = LedgerStatements.ToStoredTime(_timeProvider.GetUtcNow());
        await ExecuteAsync(
            connection,
            transaction,
            LedgerStatements.InsertPayment,
            cancellationToken,
            ("id", paymentId),
            ("tenant", charge.TenantId),
            ("account", charge.AccountId),
            ("amount", charge.AmountMinor),
            ("currency", charge.Currency),
            ("key", charge.IdempotencyKey),
            ("balance", newBalance),
            ("created", createdAt));

        await ExecuteAsync(
            connection,
            transaction,
            LedgerStatements.UpdateBalance,
            cancellationToken,
            ("balance", newBalance),
            ("tenant", charge.TenantId),
            ("account", charge.AccountId));

        await transaction.CommitAsync(cancellationToken);
        return new ChargeResult(ChargeStatus.Recorded, paymentId, newBalance);
    }

    private static async Task<StoredCharge?> FindByKeyAsync(DbConnection connection, DbTransaction? transaction, ChargeCommand charge, CancellationToken cancellationToken)
    {
        await using var command = Command(
            connection,
            transaction,
            LedgerStatements.SelectByIdempotencyKey,
            ("tenant", charge.TenantId),
            ("key", charge.IdempotencyKey));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredCharge(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4));
    }
}
