using System.Data;
using System.Data.Common;
using System.Diagnostics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Payments.Database;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.Payments.Tests.Database;

public sealed class DbConnectionPoolTests : IAsyncDisposable
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly DbPoolMetrics _metrics;
    private int _opened;

    public DbConnectionPoolTests()
    {
        _metrics = new DbPoolMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
    }

    [Fact]
    public async Task AcquireAsync_FreeConnection_RecordsZeroWaitWithTags()
    {
        // Arrange
        using var waits = Collector<double>(DbPoolMetrics.TimeInQueueName);
        using var inUse = Collector<long>(DbPoolMetrics.ActiveRequestsName);
        await using var pool = NewPool(size: 2);

        // Act
        using (var lease = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout())
        {
            Assert.Equal(ConnectionState.Open, lease.Connection.State);
        }

        // Assert
        var wait = Assert.Single(waits.GetMeasurementSnapshot());
        Assert.Equal(0, wait.Value);
        Assert.Equal(DbPoolNames.Charge, wait.Tags[MeshTelemetryTags.Pool]);
        Assert.Equal(DbPoolNames.Sqlite, wait.Tags[MeshTelemetryTags.DbSystem]);
        Assert.Equal([1L, -1L], inUse.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(inUse.GetMeasurementSnapshot(), m => Assert.Equal(DbPoolNames.Charge, m.Tags[MeshTelemetryTags.Pool]));
    }

    [Fact]
    public async Task Lease_HeldForAWhile_RecordsQueryDurationWithoutThePoolWait()
    {
        // Arrange: the second caller waits 300 ms for the first, then holds its connection 50 ms.
        using var queries = Collector<double>(DbPoolMetrics.QueryDurationName);
        await using var pool = NewPool(size: 1);

        // Act
        using (await SecondLeaseAfterWaitingAsync(pool, TimeSpan.FromMilliseconds(300)))
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        // Assert: 300 ms for the first holder, 50 ms for the second — its 300 ms wait is not query time.
        Assert.Equal([0.3, 0.05], queries.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 3)));
        Assert.All(queries.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal(DbPoolNames.Charge, m.Tags[MeshTelemetryTags.Pool]);
            Assert.Equal(DbPoolNames.Sqlite, m.Tags[MeshTelemetryTags.DbSystem]);
        });
    }

    [Fact]
    public async Task AcquireAsync_ReleasedConnection_IsReused()
    {
        // Arrange
        await using var pool = NewPool(size: 1);

        // Act
        DbConnection first;
        using (var lease = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout())
        {
            first = lease.Connection;
        }

        using var second = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout();

        // Assert
        Assert.Same(first, second.Connection);
        Assert.Equal(1, _opened);
    }

    [Fact]
    public async Task AcquireAsync_PoolFullUntilRelease_WaitsAndRecordsTheWait()
    {
        // Arrange
        using var waits = Collector<double>(DbPoolMetrics.TimeInQueueName);
        await using var pool = NewPool(size: 1);

        // Act
        using var lease = await SecondLeaseAfterWaitingAsync(pool, TimeSpan.FromMilliseconds(300));

        // Assert
        Assert.Equal([0, 0.3], waits.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 3)));
    }

    [Fact]
    public async Task AcquireAsync_PoolFullPastMaxWait_ThrowsPoolTimeout()
    {
        // Arrange
        await using var pool = NewPool(size: 1);
        using var held = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout();
        using var trace = new Activity("test").Start();
        using var listener = ListenToPoolWaits(trace.TraceId, out var stopped);

        // Act
        var waiting = pool.AcquireAsync(TestContext.Current.CancellationToken);
        _time.Advance(MaxWait - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var error = await Assert.ThrowsAsync<DbPoolTimeoutException>(() => waiting).DefaultTimeout();

        // Assert
        Assert.Equal(DbPoolNames.Charge, error.Pool);
        Assert.Contains("2000 ms", error.Message, StringComparison.Ordinal);
        var span = Assert.Single(stopped(), a => a.Status == ActivityStatusCode.Error);
        Assert.Equal(PaymentsTelemetry.PoolWaitActivity, span.OperationName);
        Assert.Equal(DbPoolNames.Charge, span.GetTagItem(MeshTelemetryTags.Pool));
    }

    [Fact]
    public async Task AcquireAsync_CallerCancelsWhileWaiting_ThrowsCanceledAndFreesNothing()
    {
        // Arrange
        await using var pool = NewPool(size: 1);
        using var held = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout();
        using var cancel = new CancellationTokenSource();

        // Act
        var waiting = pool.AcquireAsync(cancel.Token);
        await cancel.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).DefaultTimeout();
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();

    /// <summary>
    /// A first caller takes <paramref name="pool"/>'s only connection and holds it for <paramref name="wait"/>
    /// while a second caller waits (asserted still waiting); then releases it. Returns the second caller's lease.
    /// </summary>
    private async Task<DbConnectionLease> SecondLeaseAfterWaitingAsync(DbConnectionPool pool, TimeSpan wait)
    {
        var first = await pool.AcquireAsync(TestContext.Current.CancellationToken).DefaultTimeout();
        var waiting = pool.AcquireAsync(TestContext.Current.CancellationToken);
        _time.Advance(wait);
        Assert.False(waiting.IsCompleted);
        first.Dispose();
        return await waiting.DefaultTimeout();
    }

    private DbConnectionPool NewPool(int size) =>
        new(DbPoolNames.Charge, DbPoolNames.Sqlite, size, MaxWait, OpenAsync, _metrics, _time);

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _opened);
        var connection = new SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private MetricCollector<T> Collector<T>(string instrument)
        where T : struct =>
        new(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), PaymentsTelemetry.Name, instrument, _time);

    /// <summary>
    /// The pool's spans stopped in this test's trace only: the source is process-wide, and other classes' pools stop
    /// spans on it in parallel (a run once failed enumerating the list while another test's span was added).
    /// </summary>
    private static ActivityListener ListenToPoolWaits(ActivityTraceId trace, out Func<List<Activity>> stopped)
    {
        var list = new List<Activity>();
        stopped = () =>
        {
            lock (list)
            {
                return [.. list];
            }
        };
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PaymentsTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId != trace)
                {
                    return;
                }

                lock (list)
                {
                    list.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
