using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Payments;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Reporting.Tests.FanOut;

public class ReportFanOutTests
{
    private static readonly string[] FourAccounts = ["acct-0001", "acct-0002", "acct-0003", "acct-0004"];

    [Fact]
    public async Task BuildReport_CallerDeadline_DownstreamDeadlineIsCallerDeadlineMinusMargin()
    {
        // Arrange: a 3 s margin, far larger than any transport delay (below BuildReport's 5 s default, as the validator requires), so the subtraction is visible.
        await using var mesh = await StartAsync(new() { ["Reporting:DeadlineSafetyMargin"] = "00:00:03" });
        mesh.Fake.AddAccounts(2);
        var callerDeadline = DateTime.UtcNow.AddSeconds(20);

        // Act
        await mesh.BuildReport(Request("acct-0001", "acct-0002"), deadline: callerDeadline);

        // Assert: within transport skew of callerDeadline − 3 s. grpc-timeout is relative, so the time the request
        // spends in transit to reporting shifts the deadline later (a full parallel CI run saw 1.2 s on 2 cores);
        // 1.5 s of skew is still half the margin, so a missing subtraction (3 s later) would fail.
        var marginEnd = callerDeadline - TimeSpan.FromSeconds(3);
        var skew = TimeSpan.FromSeconds(1.5);
        Assert.All(mesh.Fake.Calls, c =>
        {
            Assert.True(c.Deadline <= marginEnd + skew, $"{c.Deadline:O} ≤ {marginEnd:O} + {skew.TotalSeconds} s");
            Assert.True(c.Deadline >= marginEnd - skew, $"{c.Deadline:O} ≈ {marginEnd:O}");
        });
    }

    [Fact]
    public async Task BuildReport_NoGrpcTimeout_DownstreamDeadlineIsMethodDefaultMinusMargin()
    {
        // Arrange: no grpc-timeout, so DeadlineInterceptor applies BuildReport's default (7 s here); margin 2 s.
        await using var mesh = await StartAsync(new()
        {
            ["Deadlines:Methods:/meshbulkheads.reporting.v1.ReportingService/:Default"] = "00:00:07",
            ["Reporting:DeadlineSafetyMargin"] = "00:00:02",
        });
        mesh.Fake.AddAccounts(2);
        var before = DateTime.UtcNow;

        // Act
        await mesh.BuildReport(Request("acct-0001", "acct-0002"));

        // Assert: the effective deadline (arrival + 7 s) − 2 s, within transport skew.
        var after = DateTime.UtcNow;
        Assert.Equal(2, mesh.Fake.Calls.Count);
        Assert.All(mesh.Fake.Calls, c => Assert.InRange(c.Deadline, before.AddSeconds(5) - TimeSpan.FromMilliseconds(250), after.AddSeconds(5) + TimeSpan.FromMilliseconds(250)));
    }

    [Fact]
    public async Task BuildReport_BudgetBelowMinimum_DeadlineExceededWithoutDownstreamCall()
    {
        // Arrange: 10 s left, but every downstream call needs at least 20 s.
        await using var mesh = await StartAsync(MinimumBudgetAboveRemaining());

        // Act
        var error = await mesh.BuildReportBelowMinimumBudgetAsync();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("minimum downstream budget", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(ReportFailure.BudgetExhaustedReason, error.Trailers.GetValue("x-mesh-reject-reason"));
        Assert.Empty(mesh.Fake.Calls);
    }

    [Fact]
    public async Task BuildReport_ConcurrentReports_GlobalCapBoundsDownstreamConcurrency()
    {
        // Arrange: 3 reports × 4 accounts, 4 per report allowed, but only 3 at once process-wide.
        // Long enough that no waiter is shed while the test inspects the queue.
        await using var mesh = await StartCappedAndHeldAsync(("Bulkheads:reporting-fanout:MaxQueueTime", "00:00:03"));
        var cap = mesh.Host.Services.GetRequiredService<ReportFanOut>().Cap;

        // Act
        var reports = mesh.BuildReports(3, FourAccounts);
        await mesh.Fake.WhenArrivedAsync(3).DefaultTimeout();
        // The cap is full and the rest wait for a slot: each report's first slot, or its further workers' once it has one
        // (3 to 9 waiters, by which report's workers were first; a worker holds its slot for all its calls): the moment
        // the cap is tested hardest.
        await WaitUntilAsync(() => cap.QueuedCount >= 3);
        var heldAtPeak = mesh.Fake.CurrentConcurrency;
        mesh.Fake.ReleaseCalls();
        var responses = await Task.WhenAll(reports).DefaultTimeout();

        // Assert
        Assert.Equal(3, heldAtPeak);
        Assert.Equal(3, cap.PermitLimit);
        Assert.Equal(3, mesh.Fake.MaxConcurrency);
        Assert.Equal(12, mesh.Fake.Calls.Count);
        Assert.All(responses, r => Assert.Equal(1000, r.TotalMinor));
    }

    [Fact]
    public async Task BuildReport_UncappedFanOutPitfall_ExceedsCap()
    {
        // Arrange
        await using var mesh = await StartCappedAndHeldAsync(("Reporting:Pitfalls:UncappedFanOut", "true"));

        // Act
        var reports = mesh.BuildReports(3, FourAccounts);
        await mesh.Fake.WhenArrivedAsync(12).DefaultTimeout();
        mesh.Fake.ReleaseCalls();
        await Task.WhenAll(reports).DefaultTimeout();

        // Assert: all twelve calls were held at once — four times the cap.
        Assert.Equal(12, mesh.Fake.MaxConcurrency);
    }

    [Fact]
    public async Task BuildReport_ClientCancels_AllDownstreamCallsCancelled()
    {
        // Arrange
        await using var mesh = await StartAsync(new() { ["Reporting:MaxParallelismPerReport"] = "4" });
        mesh.Fake.AddAccounts(4);
        mesh.Fake.HoldCalls();
        using var cancel = new CancellationTokenSource();
        var report = mesh.BuildReportCancellable(Request(FourAccounts), cancel.Token);
        await mesh.Fake.WhenArrivedAsync(4).DefaultTimeout();

        // Act
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => report.ResponseAsync);
        await WaitUntilAsync(() => mesh.Fake.CancelledAccounts.Count == 4);

        // Assert
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal(FourAccounts, mesh.Fake.CancelledAccounts.Order());
    }

    [Fact]
    public async Task BuildReport_FirstFailure_CancelsRemainingDownstreamCalls()
    {
        // Arrange: three calls are held; the fourth fails once all four have arrived.
        await using var mesh = await StartAsync(new() { ["Reporting:MaxParallelismPerReport"] = "4" });
        mesh.Fake.AddAccounts(4);
        mesh.Fake.HoldCalls();
        mesh.Fake.Failure = (account, _) => account == "acct-0004"
            ? new RpcException(new Status(StatusCode.NotFound, "no such account"))
            : null;
        mesh.Fake.FailAfterArrivals = 4;

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(FourAccounts)).ResponseAsync);
        await WaitUntilAsync(() => mesh.Fake.CancelledAccounts.Count == 3);

        // Assert
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("'acct-0004'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(["acct-0001", "acct-0002", "acct-0003"], mesh.Fake.CancelledAccounts.Order());
    }

    [Fact]
    public async Task BuildReport_DownstreamUnavailableOnce_RetriedByPaymentsClientOnly()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(2);
        mesh.Fake.Failure = (account, attempt) => account == "acct-0002" && attempt == 1
            ? new RpcException(new Status(StatusCode.Unavailable, "blip"), new Metadata { { "grpc-retry-pushback-ms", "1" } })
            : null;

        // Act
        var response = await mesh.BuildReport(Request("acct-0001", "acct-0002"));

        // Assert
        Assert.Equal(300, response.TotalMinor);
        Assert.Equal(1, mesh.Fake.AttemptsByAccount["acct-0001"]);
        Assert.Equal(2, mesh.Fake.AttemptsByAccount["acct-0002"]);
    }

    [Fact]
    public async Task BuildReport_DownstreamAlwaysUnavailable_ExactlyMaxAttemptsThenFails()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => new RpcException(new Status(StatusCode.Unavailable, "down"), new Metadata { { "grpc-retry-pushback-ms", "1" } });

        // Act: the test's own client has no retry policy, so any extra attempt would come from reporting.
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync);

        // Assert: the payments client's policy (3 attempts) is the only retry layer.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(PaymentsClientConfig.MaxAttempts, mesh.Fake.AttemptsByAccount["acct-0001"]);
    }

    [Fact]
    public async Task BuildReport_Completed_InFlightReturnsToZeroAndFanOutPermitLimitPublished()
    {
        // Arrange
        await using var mesh = await StartAsync(new() { ["Bulkheads:reporting-fanout:PermitLimit"] = "5" });
        mesh.Fake.AddAccounts(3);
        var meterFactory = mesh.Host.Services.GetRequiredService<IMeterFactory>();
        using var inFlight = new MetricCollector<long>(meterFactory, ReportingMetrics.MeterName, "meshbulkheads.reporting.fanout.active_requests");
        using var limit = new MetricCollector<int>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.permit_limit");
        using var requests = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

        // Act: the calls are held until all three are in flight, so no worker can finish early and take another
        // account (a worker that finds every account taken acquires no permit: CI once saw 2 acquisitions, not 3).
        mesh.Fake.HoldCalls();
        var report = mesh.BuildReport(Request("acct-0001", "acct-0002", "acct-0003"));
        await mesh.Fake.WhenArrivedAsync(3).DefaultTimeout();
        mesh.Fake.ReleaseCalls();
        await report.ResponseAsync.DefaultTimeout();
        limit.RecordObservableInstruments();

        // Assert: three +1 and three −1; the cap is the bulkhead's permit limit; each worker (one per call here) acquired a fan-out permit.
        Assert.Equal(3, mesh.Fake.MaxConcurrency);
        var values = inFlight.GetMeasurementSnapshot().Select(m => m.Value).ToArray();
        Assert.Equal(3, values.Count(v => v == 1));
        Assert.Equal(3, values.Count(v => v == -1));
        Assert.Contains(limit.GetMeasurementSnapshot(), m => m.Value == 5 && (string?)m.Tags[BulkheadConstants.BulkheadTag] == "reporting-fanout");
        Assert.Equal(3, requests.GetMeasurementSnapshot().Count(m =>
            (string?)m.Tags[BulkheadConstants.BulkheadTag] == "reporting-fanout" && (string?)m.Tags[BulkheadConstants.ResultTag] == BulkheadConstants.Results.Acquired));
    }

    [Fact]
    public async Task BuildReport_CapHasRoomForFewerWorkers_CompletesWithTheWorkersItHas()
    {
        // Arrange: four accounts and four workers allowed, but a cap of two slots and no queue: two workers find no room.
        await using var mesh = await StartAsync(new()
        {
            ["Bulkheads:reporting-fanout:PermitLimit"] = "2",
            ["Bulkheads:reporting-fanout:QueueLimit"] = "0",
            ["Bulkheads:reporting-fanout:TenantMaxShare"] = "1",
            ["Reporting:MaxParallelismPerReport"] = "4",
        });
        mesh.Fake.AddAccounts(4);

        // Act
        var response = await mesh.BuildReport(Request(FourAccounts)).ResponseAsync.DefaultTimeout();

        // Assert: reporting's own overload never abandons a report that has started (its balances would be wasted);
        // the report went on with the workers it had, two calls at a time at most.
        Assert.Equal(1000, response.TotalMinor);
        Assert.Equal(4, mesh.Fake.Calls.Count);
        Assert.InRange(mesh.Fake.MaxConcurrency, 1, 2);
    }

    /// <summary>
    /// One slot and no queue in either of reporting's bulkheads: the fan-out's (one downstream call at a time;
    /// the first report holds it) or the reports' (one report at a time; the first is held downstream).
    /// </summary>
    [Theory]
    [InlineData("reporting-fanout", "'reporting-fanout'")]
    [InlineData("reporting", "Bulkhead 'reporting' is full")]
    public async Task BuildReport_BulkheadFullWithoutQueue_UnavailableWithPushbackAndNoFurtherDownstreamCall(string bulkhead, string detail)
    {
        // Arrange + Act
        var (error, downstreamCalls) = await SecondReportWhileFirstIsHeldAsync(new()
        {
            [$"Bulkheads:{bulkhead}:PermitLimit"] = "1",
            [$"Bulkheads:{bulkhead}:QueueLimit"] = "0",
            // One tenant sends both reports: with the default share (0.5 of 1 slot) it would be tenant-share, not full.
            [$"Bulkheads:{bulkhead}:TenantMaxShare"] = "1",
        });

        // Assert: reporting's own overload, with its pushback; payments never saw the second report.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(detail, error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("queue-full", error.Trailers.GetValue("x-mesh-reject-reason"));
        Assert.NotNull(error.Trailers.GetValue("grpc-retry-pushback-ms"));
        Assert.Equal(1, downstreamCalls);
    }

    /// <summary>A fan-out cap of 3 process-wide and 4 calls per report (plus <paramref name="settings"/>), four accounts, every downstream call held.</summary>
    private static async Task<ReportingTestHost> StartCappedAndHeldAsync(params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Bulkheads:reporting-fanout:PermitLimit"] = "3",
            ["Reporting:MaxParallelismPerReport"] = "4",
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        var mesh = await StartAsync(configuration);
        mesh.Fake.AddAccounts(4);
        mesh.Fake.HoldCalls();
        return mesh;
    }

    /// <summary>
    /// Holds a first report at the fake payments server, sends a second one (which must fail), then
    /// lets the first finish. Returns the second report's error and how many downstream calls arrived.
    /// </summary>
    private static async Task<(RpcException Error, int DownstreamCalls)> SecondReportWhileFirstIsHeldAsync(Dictionary<string, string?> settings)
    {
        await using var mesh = await StartAsync(settings);
        mesh.Fake.AddAccounts(2);
        mesh.Fake.HoldCalls();
        var holding = mesh.BuildReport(Request("acct-0001")).ResponseAsync;
        await mesh.Fake.WhenArrivedAsync(1).DefaultTimeout();

        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0002")).ResponseAsync);
        mesh.Fake.ReleaseCalls();
        await holding.DefaultTimeout();
        return (error, mesh.Fake.Calls.Count);
    }

    [Fact]
    public async Task Build_MinimumBudgetDoesNotFitDefaultDeadline_FailsNamingSettings()
    {
        // Arrange: 1 s + 0.5 s of queues + 50 ms margin + 4 s minimum budget > the 5 s default deadline.
        var configuration = new Dictionary<string, string?> { ["Reporting:MinDownstreamBudget"] = "00:00:04" };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(ReportingApp.Build, configuration));

        // Assert
        Assert.Contains("Reporting:MinDownstreamBudget", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bulkheads:reporting-fanout:MaxQueueTime", error.Message, StringComparison.Ordinal);
        Assert.Contains("Deadlines:Methods:/meshbulkheads.reporting.v1.ReportingService/:Default", error.Message, StringComparison.Ordinal);
    }
}
