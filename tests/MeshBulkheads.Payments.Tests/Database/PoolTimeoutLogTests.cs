using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.Payments.Tests.Database;

/// <summary>Per-call pool-timeout warnings are rate-limited (one line per pool per 10 s, with a count), on the host's <see cref="TimeProvider"/>.</summary>
public sealed class PoolTimeoutLogTests : PaymentsHostTests
{
    private static readonly TimeSpan MaxPoolWait = TimeSpan.FromMilliseconds(10);
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());

    [Fact]
    public async Task GetBalance_ManyPoolTimeoutsWithinTenSeconds_LogsOneLineThenOneWithTheSuppressedCount()
    {
        // Arrange: the only read connection is held, so every read times out in the pool.
        var host = await Scope.StartSqliteAsync(
            new Dictionary<string, string?>
            {
                ["Payments:Database:ReadPoolSize"] = "1",
                ["Payments:Database:MaxPoolWait"] = "00:00:00.010",
            },
            services =>
            {
                services.AddSingleton<TimeProvider>(_time);
                services.AddFakeLogging();
            });
        var store = PaymentsHostScope.Store<SqlLedgerStore>(host);
        using var held = await store.ReadPool.AcquireAsync(Ct).DefaultTimeout();
        var client = PaymentsHostScope.Client(host, "acme");
        var logs = host.Services.GetFakeLogCollector();

        // Act: ten timeouts within a second of (fake) time, then one more ten seconds later
        for (var i = 0; i < 10; i++)
        {
            await TimeOutOneReadAsync(client);
        }

        var linesWithinTheWindow = PoolTimeoutLines(logs).Count;
        _time.Advance(TimeSpan.FromSeconds(10));
        await TimeOutOneReadAsync(client);

        // Assert
        Assert.Equal(1, linesWithinTheWindow);
        var lines = PoolTimeoutLines(logs);
        Assert.Equal(2, lines.Count);
        Assert.Contains(lines[1].StructuredState!, kv => kv.Key == "Suppressed" && kv.Value == "9");
        Assert.All(lines, l => Assert.Null(l.Exception));
    }

    private static List<FakeLogRecord> PoolTimeoutLines(FakeLogCollector logs) =>
        logs.GetSnapshot().Where(r => r.Id.Name == "PoolTimeout").ToList();

    private async Task TimeOutOneReadAsync(PaymentsService.PaymentsServiceClient client)
    {
        var call = client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: Ct).ResponseAsync;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (!call.IsCompleted)
        {
            // The pool's wait runs on the fake clock: move it on until this call has timed out.
            _time.Advance(MaxPoolWait);
            await Task.WhenAny(call, Task.Delay(TimeSpan.FromMilliseconds(5), timeout.Token));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }
}
