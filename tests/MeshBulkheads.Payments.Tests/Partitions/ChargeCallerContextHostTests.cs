using System.Collections.Concurrent;
using System.Diagnostics;

namespace MeshBulkheads.Payments.Tests.Partitions;

/// <summary>
/// What a charge's caller sees of the partition's work on a real payments host (SQLite, real threads,
/// <see cref="TimeProvider.System"/>): its spans in its own trace, and an honest answer when it gives up
/// after the charge committed.
/// </summary>
public sealed class ChargeCallerContextHostTests : PaymentsHostTests
{
    private static readonly ActivitySource s_callers = new("MeshBulkheads.Payments.Tests.Callers");

    [Fact]
    public async Task Charge_TwoCallsWithDistinctParents_EachGetsItsDbSpansInItsOwnTrace()
    {
        // Arrange
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = Listen(stopped);
        var host = await Scope.StartSqliteAsync();
        var client = PaymentsHostScope.Client(host, Tenant);
        var account = "trace-" + Guid.NewGuid().ToString("N")[..12];

        // Act: the first call through is a read (no partition involved), then two charges, each its own trace.
        ActivityTraceId balanceTrace;
        using (var parent = s_callers.StartActivity("balance-caller"))
        {
            balanceTrace = parent!.TraceId;
            await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync);
        }

        var chargeTraces = new List<ActivityTraceId>();
        foreach (var amount in new[] { 1L, 2L })
        {
            using var parent = s_callers.StartActivity("charge-caller-" + amount);
            chargeTraces.Add(parent!.TraceId);
            await client.ChargeAsync(PaymentsHostScope.Charge(account, amount), cancellationToken: Ct);
        }

        // Assert: each charge trace holds its own db.pool.wait and db.query (charge); the read's trace only its own.
        foreach (var trace in chargeTraces)
        {
            var spans = stopped.Where(a => a.TraceId == trace && a.Source.Name == PaymentsTelemetry.Name).ToList();
            Assert.Single(spans, a => a.OperationName == PaymentsTelemetry.QueryActivity && (string?)a.GetTagItem(PaymentsTelemetry.DbOperationTag) == "charge");
            Assert.Single(spans, a => a.OperationName == PaymentsTelemetry.PoolWaitActivity);
        }

        var balanceSpans = stopped.Where(a => a.TraceId == balanceTrace && a.Source.Name == PaymentsTelemetry.Name).ToList();
        Assert.Equal(2, balanceSpans.Count);
        Assert.DoesNotContain(balanceSpans, a => (string?)a.GetTagItem(PaymentsTelemetry.DbOperationTag) == "charge");
    }

    [Fact]
    public async Task Charge_DeadlinePassesAfterCommit_SaysItMayHaveBeenRecordedAndSameKeyReplays()
    {
        // Arrange: the store holds the charge after it committed until the server's 300 ms deadline has passed.
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = PaymentsHostScope.Charge("late-" + Guid.NewGuid().ToString("N")[..12], 42);
        var host = await Scope.StartSqliteAsync(
            new Dictionary<string, string?>
            {
                ["Deadlines:Methods:/meshbulkheads.payments.v1.PaymentsService/Charge:Default"] = "00:00:00.300",
                ["Bulkheads:payments-charge:MaxQueueTime"] = "00:00:00.100",
            },
            services => services.AddSingleton<ILedgerStore>(sp => new HoldAfterCommitStore(
                ActivatorUtilities.CreateInstance<SqliteLedgerStore>(sp), request.IdempotencyKey, committed, release)));
        var client = PaymentsHostScope.Client(host, Tenant);

        // Act: no client deadline, so the answer is the server's own at its deadline.
        var call = client.ChargeAsync(request, cancellationToken: Ct);
        await committed.Task.DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();
        release.TrySetResult();
        var retry = await client.ChargeAsync(request, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, call.GetTrailers().GetValue(MeshMetadata.RejectReason));
        Assert.Contains("may have been recorded", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("same idempotency_key", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("never started", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(retry.Replayed); // it was recorded: the retry with the same key replays it, no second charge
        Assert.Equal(42, retry.BalanceMinor);
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is PaymentsTelemetry.Name or "Microsoft.AspNetCore" || source == s_callers,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>A real store that, for one key, holds the result after the charge committed (a gate after commit).</summary>
    private sealed class HoldAfterCommitStore(SqliteLedgerStore inner, string key, TaskCompletionSource committed, TaskCompletionSource release)
        : ILedgerStore, IAsyncDisposable
    {
        public string DbSystem => inner.DbSystem;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public async Task<ChargeResult> ChargeAsync(ChargeCommand command, CancellationToken cancellationToken)
        {
            var result = await inner.ChargeAsync(command, cancellationToken);
            if (command.IdempotencyKey == key && committed.TrySetResult())
            {
                await release.Task;
            }

            return result;
        }

        public Task<AccountBalance?> GetBalanceAsync(string tenantId, string accountId, CancellationToken cancellationToken) =>
            inner.GetBalanceAsync(tenantId, accountId, cancellationToken);

        public Task<PaymentPage?> ListPaymentsAsync(string tenantId, string accountId, int pageSize, long? beforeSequence, CancellationToken cancellationToken) =>
            inner.ListPaymentsAsync(tenantId, accountId, pageSize, beforeSequence, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
