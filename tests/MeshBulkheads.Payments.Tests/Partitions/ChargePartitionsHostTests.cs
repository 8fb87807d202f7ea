using System.Collections.Concurrent;
using MeshBulkheads.Payments.Partitions;

namespace MeshBulkheads.Payments.Tests.Partitions;

/// <summary>
/// Partitions seen from a gRPC client on a real payments host (SQLite). A hook gates the consumer that
/// runs the first charge, so "later charges overtake it" or "they wait behind it" is forced, not timed.
/// </summary>
public sealed class ChargePartitionsHostTests : PaymentsHostTests
{
    private readonly Gate _gate = new();
    private KestrelHost? _host;

    [Fact]
    public async Task Charge_GlobalQueuePitfallOff_CommitsOneAccountInSubmissionOrder()
    {
        // Arrange
        var (client, account, a) = await StartWithFirstChargeHeldAsync(globalQueue: false);

        // Act: b and c queue behind a in the account's mailbox.
        var b = Submit(client, account, 2);
        await _gate.EnqueuedAsync(b.Key);
        var c = Submit(client, account, 3);
        await _gate.EnqueuedAsync(c.Key);
        var overtaken = b.Call.ResponseAsync.IsCompleted || c.Call.ResponseAsync.IsCompleted;
        _gate.Release.TrySetResult();
        await Task.WhenAll(a.Call.ResponseAsync, b.Call.ResponseAsync, c.Call.ResponseAsync).DefaultTimeout();

        // Assert
        Assert.False(overtaken);
        var payments = await PaymentsHostScope.ListOldestFirstAsync(client, account, Ct);
        Assert.Equal([1L, 2, 3], payments.Select(p => p.AmountMinor));
        Assert.Equal([1L, 3, 6], new[] { a, b, c }.Select(x => x.Call.ResponseAsync.Result.BalanceMinor));
    }

    [Fact]
    public async Task Charge_GlobalQueuePitfallOn_CommitsOneAccountOutOfOrder()
    {
        // Arrange
        var (client, account, a) = await StartWithFirstChargeHeldAsync(globalQueue: true);

        // Act: with one global queue, other consumers take b and c while a's consumer is held.
        var b = await Submit(client, account, 2).Call.ResponseAsync.DefaultTimeout();
        var c = await Submit(client, account, 3).Call.ResponseAsync.DefaultTimeout();
        _gate.Release.TrySetResult();
        var aResponse = await a.Call.ResponseAsync.DefaultTimeout();

        // Assert: submitted a, b, c; committed b, c, a — the symptom the switch exists to show.
        var payments = await PaymentsHostScope.ListOldestFirstAsync(client, account, Ct);
        Assert.Equal([2L, 3, 1], payments.Select(p => p.AmountMinor));
        Assert.Equal((2L, 5L, 6L), (b.BalanceMinor, c.BalanceMinor, aResponse.BalanceMinor));
    }

    [Fact]
    public async Task Charge_AccountMailboxFull_ReturnsUnavailableWithPartitionFullAndPushback()
    {
        // Arrange
        var (client, account, a) = await StartWithFirstChargeHeldAsync(globalQueue: false, mailboxCapacity: 1);
        var b = Submit(client, account, 2);
        await _gate.EnqueuedAsync(b.Key);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => Submit(client, account, 3).Call.ResponseAsync).DefaultTimeout();
        var otherAccount = await client.ChargeAsync(PaymentsHostScope.Charge(OtherPartition(account), 7), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(Api.PaymentsService.PartitionFullReason, PaymentsHostScope.Trailer(error, MeshMetadata.RejectReason));
        Assert.True(long.TryParse(PaymentsHostScope.Trailer(error, MeshMetadata.RetryPushbackMs), out var pushback) && pushback >= 50, error.Trailers.ToString());
        Assert.Contains("is full", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(7, otherAccount.BalanceMinor); // the hot account's mailbox does not stall others
        _gate.Release.TrySetResult();
        await Task.WhenAll(a.Call.ResponseAsync, b.Call.ResponseAsync).DefaultTimeout();
    }

    [Theory]
    [InlineData(true, StatusCode.Cancelled)]
    [InlineData(false, StatusCode.DeadlineExceeded)]
    public async Task Charge_CallerCancelsOrDeadlinePassesWhileQueued_ChargeNeverRecorded(bool callerCancels, StatusCode expected)
    {
        // Arrange: b waits behind a; it gives up while queued: its caller cancels, or its 300 ms deadline passes.
        var (client, account, a) = await StartWithFirstChargeHeldAsync(globalQueue: false);
        using var caller = new CancellationTokenSource();
        var b = callerCancels
            ? Submit(client, account, 2, caller: caller)
            : Submit(client, account, 2, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.AddMilliseconds(300));
        await _gate.EnqueuedAsync(b.Key);

        // Act
        if (callerCancels)
        {
            await caller.CancelAsync();
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => b.Call.ResponseAsync).DefaultTimeout();
        await _gate.AbandonedAsync(b.Key);
        _gate.Release.TrySetResult();
        await Submit(client, account, 4).Call.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(expected, error.StatusCode);
        await _gate.SkippedAsync(b.Key);
        var payments = await PaymentsHostScope.ListOldestFirstAsync(client, account, Ct);
        Assert.Equal([1L, 4], payments.Select(p => p.AmountMinor));
        await a.Call.ResponseAsync.DefaultTimeout();
    }

    [Fact]
    public async Task Metrics_AfterCharges_ExportPartitionAndBulkheadSeriesUnderDocumentedNames()
    {
        // Arrange
        var client = await StartAsync(globalQueue: false);
        var account = NewAccount();
        await client.ChargeAsync(PaymentsHostScope.Charge(account, 1), cancellationToken: Ct);
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        using var admin = _host!.CreateAdminClient();

        // Act
        var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        // Assert
        string[] documented =
        [
            "meshbulkheads_payments_partition_queued_requests{",
            "meshbulkheads_partition=\"15\"",
            "meshbulkheads_payments_partition_queue_limit{",
            "meshbulkheads_payments_partition_requests_total{",
            "meshbulkheads_result=\"executed\"",
            "meshbulkheads_payments_partition_request_time_in_queue_seconds_bucket{",
            "meshbulkheads_bulkhead=\"payments-charge\"",
            "meshbulkheads_bulkhead=\"payments-read\"",
            "meshbulkheads_bulkhead_queue_oldest_age_seconds",
        ];
        Assert.All(documented, name => Assert.Contains(name, text, StringComparison.Ordinal));
    }

    public override async ValueTask DisposeAsync()
    {
        _gate.Release.TrySetResult();
        await base.DisposeAsync();
    }

    private static string NewAccount() => "p-" + Guid.NewGuid().ToString("N")[..16];

    private static string OtherPartition(string account) => Enumerable.Range(0, 100).Select(i => $"other-{i}")
        .First(o => ChargePartitions.PartitionOf(Tenant, o, 16) != ChargePartitions.PartitionOf(Tenant, account, 16));

    private async Task<PaymentsService.PaymentsServiceClient> StartAsync(bool globalQueue, int mailboxCapacity = 16)
    {
        var host = await Scope.StartSqliteAsync(
            new Dictionary<string, string?>
            {
                ["Payments:Pitfalls:GlobalQueue"] = globalQueue ? "true" : "false",
                ["Payments:Partitions:Count"] = "16",
                ["Payments:Partitions:MailboxCapacity"] = mailboxCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            services => services.AddSingleton(_gate.Hooks));
        _host = host;
        return PaymentsHostScope.Client(host, Tenant);
    }

    /// <summary>Starts the host and charges a new account 1, holding the consumer that runs that charge; returns once it is held.</summary>
    private async Task<(PaymentsService.PaymentsServiceClient Client, string Account, Submitted First)> StartWithFirstChargeHeldAsync(bool globalQueue, int mailboxCapacity = 16)
    {
        var client = await StartAsync(globalQueue, mailboxCapacity);
        var account = NewAccount();
        var first = Submit(client, account, 1, gated: true);
        await _gate.Entered.Task.DefaultTimeout();
        return (client, account, first);
    }

    private Submitted Submit(PaymentsService.PaymentsServiceClient client, string account, long amount, bool gated = false, CancellationTokenSource? caller = null, DateTime? deadline = null)
    {
        var request = PaymentsHostScope.Charge(account, amount);
        if (gated)
        {
            _gate.GatedKey = request.IdempotencyKey;
        }

        var token = caller?.Token ?? Ct;
        return new Submitted(request.IdempotencyKey, client.ChargeAsync(request, deadline: deadline, cancellationToken: token));
    }

    private sealed record Submitted(string Key, AsyncUnaryCall<ChargeResponse> Call);

    /// <summary>Holds the consumer that picks up the gated charge; signals per idempotency key.</summary>
    private sealed class Gate
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _enqueued = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _abandoned = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _skipped = new();

        public Gate()
        {
            Hooks = new ChargePartitionHooks
            {
                Enqueued = info => Signal(_enqueued, info.IdempotencyKey).TrySetResult(),
                Abandoned = info => Signal(_abandoned, info.IdempotencyKey).TrySetResult(),
                Skipped = info => Signal(_skipped, info.IdempotencyKey).TrySetResult(),
                BeforeExecuteAsync = async info =>
                {
                    if (info.IdempotencyKey == GatedKey)
                    {
                        Entered.TrySetResult();
                        await Release.Task;
                    }
                },
            };
        }

        public string? GatedKey { get; set; }

        public ChargePartitionHooks Hooks { get; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task EnqueuedAsync(string key) => Signal(_enqueued, key).Task.DefaultTimeout();

        public Task AbandonedAsync(string key) => Signal(_abandoned, key).Task.DefaultTimeout();

        public Task SkippedAsync(string key) => Signal(_skipped, key).Task.DefaultTimeout();

        private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> signals, string key) =>
            signals.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
