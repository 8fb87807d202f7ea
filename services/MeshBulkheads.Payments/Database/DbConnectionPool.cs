using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Diagnostics;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Payments.Database;

/// <summary>
/// A bounded pool of open connections. Callers wait at most <c>maxWait</c> for one; the wait is a
/// histogram and its own <c>db.pool.wait</c> span, so a trace separates "waiting for the database"
/// from "the database working". Charges and reads get separate instances (a partitioned pool).
/// </summary>
public sealed class DbConnectionPool : IAsyncDisposable
{
    private readonly SemaphoreSlim _permits;
    private static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(1);

    private readonly ConcurrentStack<(DbConnection Connection, long IdleSince)> _idle = new();
    private readonly DbPoolHealth _health;
    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly DbPoolMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _maxWait;

    public DbConnectionPool(
        string name,
        string dbSystem,
        int size,
        TimeSpan maxWait,
        Func<CancellationToken, Task<DbConnection>> open,
        DbPoolMetrics metrics,
        TimeProvider timeProvider,
        DbPoolHealth? health = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Name = name;
        DbSystem = dbSystem;
        Size = size;
        _maxWait = maxWait;
        _open = open;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _health = health ?? DbPoolHealth.None;
        _permits = new SemaphoreSlim(size, size);
        metrics.RegisterLimit(name, dbSystem, size);
    }

    /// <summary><c>charge</c> or <c>read</c>.</summary>
    public string Name { get; }

    /// <summary><c>sqlite</c> or <c>postgresql</c>.</summary>
    public string DbSystem { get; }

    /// <summary>The most connections this pool hands out at once.</summary>
    public int Size { get; }

    /// <summary>
    /// Waits for a connection (at most the configured maximum wait) and returns it as a lease;
    /// dispose the lease to return the connection.
    /// </summary>
    /// <exception cref="DbPoolTimeoutException">No connection became free in time.</exception>
    /// <exception cref="DbUnavailableException">No connection could be opened (the database is down or unreachable).</exception>
    public async Task<DbConnectionLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var start = _timeProvider.GetTimestamp();
        using (var activity = PaymentsTelemetry.Source.StartActivity(PaymentsTelemetry.PoolWaitActivity))
        {
            activity?.SetTag(MeshTelemetryTags.Pool, Name);
            activity?.SetTag(MeshTelemetryTags.DbSystem, DbSystem);
            var acquired = _permits.Wait(0, CancellationToken.None) || await WaitAsync(cancellationToken);
            _metrics.RecordWait(_timeProvider.GetElapsedTime(start), Name, DbSystem);
            if (!acquired)
            {
                activity?.SetStatus(ActivityStatusCode.Error, "db-pool-timeout");
                throw new DbPoolTimeoutException(
                    Name,
                    $"No '{Name}' database connection became free within {_maxWait.TotalMilliseconds:0} ms (pool size {Size}); the database is saturated, retry later.",
                    BulkheadRejectionMapper.BoundRetryAfter(_maxWait));
            }
        }

        _metrics.AddActive(1, Name, DbSystem);
        try
        {
            var connection = await TakeOrOpenAsync(cancellationToken);
            return new DbConnectionLease(this, connection, _timeProvider.GetTimestamp());
        }
        catch
        {
            Release(null, acquiredAt: null);
            throw;
        }
    }

    internal void Release(DbConnection? connection, long? acquiredAt)
    {
        if (acquiredAt is { } at)
        {
            _metrics.RecordQuery(_timeProvider.GetElapsedTime(at), Name, DbSystem);
        }

        if (connection is not null)
        {
            if (connection.State == ConnectionState.Open)
            {
                _idle.Push((connection, _timeProvider.GetTimestamp()));
            }
            else
            {
                connection.Dispose();
            }
        }

        _metrics.AddActive(-1, Name, DbSystem);
        _permits.Release();
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryPop(out var idle))
        {
            await idle.Connection.DisposeAsync();
        }
    }

    /// <summary>
    /// When <paramref name="exception"/> means the connection broke: closes every idle connection (after a server
    /// restart they are all dead) and returns the <see cref="DbUnavailableException"/> to throw; otherwise null.
    /// </summary>
    public DbUnavailableException? ConnectionFailure(Exception exception)
    {
        if (exception is DbUnavailableException unavailable)
        {
            return unavailable;
        }

        if (!_health.IsConnectionFailure(exception))
        {
            return null;
        }

        EvictIdle();
        return new DbUnavailableException(
            Name,
            $"The '{Name}' database connection failed ({exception.GetType().Name}: {Truncate(exception.Message)}); the database is unreachable or restarting, retry later.",
            UnavailableRetryAfter,
            exception);
    }

    private static string Truncate(string message) => message.Length > 120 ? message[..120] + "…" : message;

    private void EvictIdle()
    {
        while (_idle.TryPop(out var idle))
        {
            idle.Connection.Dispose();
        }

        _health.OnBroken?.Invoke();
    }

    private async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_maxWait, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _permits.WaitAsync(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<DbConnection> TakeOrOpenAsync(CancellationToken cancellationToken)
    {
        // The permit bounds the connections, so the stack never holds more than Size.
        while (_idle.TryPop(out var idle))
        {
            if (_timeProvider.GetElapsedTime(idle.IdleSince) < _health.ValidateIdleAfter || await IsAliveAsync(idle.Connection, cancellationToken))
            {
                return idle.Connection;
            }

            // Dead (e.g. the server restarted): so are its idle siblings most likely; open a fresh one.
            await idle.Connection.DisposeAsync();
            EvictIdle();
        }

        try
        {
            return await _open(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ConnectionFailure(ex) is { } unavailable)
        {
            throw unavailable;
        }
    }

    private static async Task<bool> IsAliveAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (connection.State != ConnectionState.Open)
        {
            return false;
        }

        try
        {
            await using var ping = connection.CreateCommand();
            ping.CommandText = "SELECT 1";
            await ping.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

/// <summary>A connection borrowed from a <see cref="DbConnectionPool"/>; dispose to return it.</summary>
public sealed class DbConnectionLease : IDisposable
{
    private readonly long _acquiredAt;
    private DbConnectionPool? _pool;
    private DbConnection? _connection;

    internal DbConnectionLease(DbConnectionPool pool, DbConnection connection, long acquiredAt)
    {
        _pool = pool;
        _connection = connection;
        _acquiredAt = acquiredAt;
    }

    /// <summary>The open connection.</summary>
    public DbConnection Connection => _connection ?? throw new ObjectDisposedException(nameof(DbConnectionLease));

    /// <summary>Marks the connection as broken so it is closed instead of reused.</summary>
    public void Discard()
    {
        _connection?.Dispose();
    }

    public void Dispose()
    {
        var pool = Interlocked.Exchange(ref _pool, null);
        pool?.Release(_connection, _acquiredAt);
        _connection = null;
    }
}
