using System.Globalization;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Reporting.FanOut;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using Polly.Telemetry;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;

namespace MeshBulkheads.Reporting.Tests.FanOut;

/// <summary>
/// The circuit breaker around each report's fan-out (<see cref="ReportCircuitBreaker"/>): it samples report outcomes, opens
/// when most reports fail on payments, then refuses reports before any call until one trial report closes it. Driven on a
/// fake clock against a real (fake) payments host; events counted through Polly's telemetry listeners, calls at payments.
/// </summary>
public sealed class ReportCircuitBreakerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(3);

    /// <summary>The report breaker's Polly <c>strategy.name</c>, spelled out (the experiment's probe filters on it).</summary>
    private const string StrategyName = "report-circuit-breaker";

    /// <summary>An account payments knows and answers.</summary>
    private const string Good = "acct-0001";

    /// <summary>An account payments knows but sheds every call for (as its bulkheads do: Trailers-Only UNAVAILABLE).</summary>
    private const string Shed = "acct-0002";

    // ---- What counts (the predicate alone) ----

    [Theory]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.ResourceExhausted, true)]
    [InlineData(StatusCode.DeadlineExceeded, true)]
    [InlineData(StatusCode.NotFound, false)]
    [InlineData(StatusCode.InvalidArgument, false)]
    [InlineData(StatusCode.Internal, false)]
    [InlineData(StatusCode.Unauthenticated, false)]
    [InlineData(StatusCode.Cancelled, false)]
    public void IsFailure_PaymentsStatus_OnlyRefusalsAndDeadlinesCount(StatusCode status, bool counted)
    {
        // Act
        var failure = ReportCircuitBreaker.IsFailure(new RpcException(new Status(status, "payments said so")));

        // Assert
        Assert.Equal(counted, failure);
    }

    [Fact]
    public void IsFailure_BudgetExhaustedOwnShedOrOpenPaymentsBreaker_TheBudgetAndThePaymentsBreakerCount()
    {
        // Arrange: the payments breaker's refusal as grpc-dotnet wraps it (INTERNAL, the refusal as debug exception).
        var budget = new DownstreamBudgetExhaustedException(Good, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100));
        var ownShed = new FanOutRejectedException(new MeshRejection(StatusCode.Unavailable, MeshRejectReasons.QueueFull, "full", TimeSpan.FromMilliseconds(50)));
        var paymentsBreakerOpen = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.", new BrokenCircuitException(TimeSpan.FromSeconds(1))));

        // Act + Assert
        Assert.True(ReportCircuitBreaker.IsFailure(budget));
        Assert.False(ReportCircuitBreaker.IsFailure(ownShed));
        Assert.True(ReportCircuitBreaker.IsFailure(paymentsBreakerOpen));
    }

    // ---- Options ----

    [Fact]
    public void Options_Defaults_HalfOfTenReportsInFiveSecondsAndAThreeSecondBreak()
    {
        // Act
        var options = new ReportingOptions().ReportBreaker;

        // Assert
        Assert.True(options.Enabled);
        Assert.Equal(0.5, options.FailureRatio);
        Assert.Equal(10, options.MinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(3), options.BreakDuration);
    }

    [Theory]
    [InlineData("FailureRatio", "0")]
    [InlineData("FailureRatio", "1.5")]
    [InlineData("MinimumThroughput", "1")]
    [InlineData("SamplingDuration", "00:00:00.100")]
    [InlineData("BreakDuration", "00:00:00")]
    public async Task Start_BreakerSettingOutOfRange_FailsNamingTheKey(string key, string value)
    {
        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(ReportingApp.Build, new Dictionary<string, string?>
        {
            [$"Reporting:ReportBreaker:{key}"] = value,
        }));

        // Assert
        Assert.Contains($"ReportBreaker.{key}", error.Message, StringComparison.Ordinal);
    }

    // ---- Opening ----

    /// <summary>Reports that completed, then reports that failed on payments; with a ratio of 0.5 over at least 4 reports.</summary>
    [Theory]
    [InlineData(0, 4, true)]
    [InlineData(2, 2, true)]
    [InlineData(3, 2, false)]
    [InlineData(0, 3, false)]
    public async Task BuildReport_ReportsFailOnPayments_OpensOnlyAtTheRatioAndThroughput(int completed, int failed, bool opens)
    {
        // Arrange
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartWithSheddingAccountAsync(clock, events);

        // Act
        for (var i = 0; i < completed; i++)
        {
            await mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout();
        }

        for (var i = 0; i < failed; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Shed)).ResponseAsync.DefaultTimeout());
            // Each failing report fails with payments' own status: the breaker opens after it, it does not refuse it.
            Assert.Equal(MeshRejectReasons.Downstream(StatusCode.Unavailable), error.Trailers.GetValue(MeshMetadata.RejectReason));
        }

        var callsBefore = mesh.Fake.Calls.Count;
        var next = await Record.ExceptionAsync(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());

        // Assert: open → the next report, of an account payments would answer, is refused without a call.
        Assert.Equal(opens ? 1 : 0, events.Count(BreakerEvents.Opened));
        if (opens)
        {
            var refused = Assert.IsType<RpcException>(next);
            Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, refused.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.Equal(callsBefore, mesh.Fake.Calls.Count);
        }
        else
        {
            Assert.Null(next);
            Assert.Equal(callsBefore + 1, mesh.Fake.Calls.Count);
        }
    }

    // ---- The cycle ----

    [Fact]
    public async Task BuildReport_Open_RefusedBeforeAnyCallWithReasonAndPushbackThenOneTrialCloses()
    {
        // Arrange: opened by four reports that failed on payments.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        using var paymentsEvents = new BreakerEvents("payments-circuit-breaker");
        await using var mesh = await StartWithSheddingAccountAsync(clock, events, paymentsEvents);
        await FailReportsAsync(mesh, 4);
        var callsWhenOpened = mesh.Fake.Calls.Count;

        // Act 1: reports while open, one of four accounts, at once and after a second of the break.
        var atOnce = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good, "acct-0003", "acct-0004", "acct-0005")).ResponseAsync.DefaultTimeout());
        clock.Advance(TimeSpan.FromSeconds(1));
        var later = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());

        // Assert 1: UNAVAILABLE downstream-circuit-open, the break left as pushback, the report breaker named; payments saw
        // nothing, and it was this breaker, not the payments one (which is on, and never opened).
        Assert.All(new[] { atOnce, later }, e =>
        {
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.Contains("report circuit breaker", e.Status.Detail, StringComparison.Ordinal);
        });
        Assert.InRange(Pushback(atOnce), 2001, (long)BreakDuration.TotalMilliseconds);
        Assert.InRange(Pushback(later), 1, 2000);
        Assert.Equal(callsWhenOpened, mesh.Fake.Calls.Count);
        Assert.Equal(1, events.Count(BreakerEvents.Opened));
        Assert.Equal(0, paymentsEvents.Count(BreakerEvents.Opened));
        using var admin = mesh.Host.CreateAdminClient();
        var scraped = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Contains(scraped.Split('\n'), line => line.StartsWith("resilience_polly_strategy_events_total{", StringComparison.Ordinal)
            && line.Contains("event_name=\"OnCircuitOpened\"", StringComparison.Ordinal)
            && line.Contains("pipeline_name=\"report-breaker\"", StringComparison.Ordinal)
            && line.Contains($"strategy_name=\"{StrategyName}\"", StringComparison.Ordinal));

        // Act 2: the break ends; the trial report is held at payments, and another report arrives meanwhile.
        clock.Advance(BreakDuration - TimeSpan.FromSeconds(1));
        mesh.Fake.HoldCalls();
        var trial = mesh.BuildReport(Request(Good)).ResponseAsync;
        await mesh.Fake.WhenArrivedAsync(callsWhenOpened + 1).DefaultTimeout();
        var duringTrial = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());
        mesh.Fake.ReleaseCalls();
        var trialResponse = await trial.DefaultTimeout();
        var afterTrial = await mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout();

        // Assert 2: one trial only (the other report refused without a call); it closed the breaker.
        Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, duringTrial.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(100, trialResponse.TotalMinor);
        Assert.Equal(100, afterTrial.TotalMinor);
        Assert.Equal(callsWhenOpened + 2, mesh.Fake.Calls.Count);
        Assert.Equal(1, events.Count(BreakerEvents.Opened));
        Assert.Equal(1, events.Count(BreakerEvents.HalfOpened));
        Assert.Equal(1, events.Count(BreakerEvents.Closed));
    }

    [Fact]
    public async Task BuildReport_TrialReportFailsOnPayments_OpensForAnotherBreak()
    {
        // Arrange
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartWithSheddingAccountAsync(clock, events);
        await FailReportsAsync(mesh, 4);
        clock.Advance(BreakDuration);

        // Act: the trial fails on payments; the next report is refused again.
        var trial = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Shed)).ResponseAsync.DefaultTimeout());
        var callsAfterTrial = mesh.Fake.Calls.Count;
        var next = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(MeshRejectReasons.Downstream(StatusCode.Unavailable), trial.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, next.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(callsAfterTrial, mesh.Fake.Calls.Count);
        Assert.Equal(2, events.Count(BreakerEvents.Opened));
        Assert.Equal(1, events.Count(BreakerEvents.HalfOpened));
        Assert.Equal(0, events.Count(BreakerEvents.Closed));
    }

    // ---- What is not a failure, and what is not a sample ----

    [Fact]
    public async Task BuildReport_CallerCancellationsAndNotFound_NeverOpen()
    {
        // Arrange
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartWithSheddingAccountAsync(clock, events);

        // Act: 3 × the minimum throughput of reports that failed for their caller: an account payments does not know, and
        // reports whose caller cancelled while payments held their call.
        for (var i = 0; i < 6; i++)
        {
            var notFound = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-9999")).ResponseAsync.DefaultTimeout());
            Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        }

        mesh.Fake.HoldCalls();
        for (var i = 0; i < 6; i++)
        {
            using var cancel = new CancellationTokenSource();
            var arrived = mesh.Fake.WhenArrivedAsync(mesh.Fake.Calls.Count + 1);
            var report = mesh.BuildReportCancellable(Request(Good), cancel.Token);
            await arrived.DefaultTimeout();
            await cancel.CancelAsync();
            var cancelled = await Assert.ThrowsAsync<RpcException>(() => report.ResponseAsync.DefaultTimeout());
            Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        }

        mesh.Fake.Gate = null;
        var next = await mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout();

        // Assert: none was a failure; the breaker stayed closed.
        Assert.Equal(0, events.Count(BreakerEvents.Opened));
        Assert.Equal(100, next.TotalMinor);
    }

    [Fact]
    public async Task BuildReport_InvalidRequestsAndFanOutCapSheds_AreNotSamples()
    {
        // Arrange: a fan-out cap of one slot and no queue, so a second report at once is shed by reporting itself.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartWithSheddingAccountAsync(clock, events, settings: new()
        {
            ["Bulkheads:reporting-fanout:PermitLimit"] = "1",
            ["Bulkheads:reporting-fanout:QueueLimit"] = "0",
            ["Bulkheads:reporting-fanout:TenantMaxShare"] = "1",
        });

        // Act 1: invalid reports (never fan out), and reports shed by the fan-out cap while one report holds its slot.
        for (var i = 0; i < 6; i++)
        {
            var invalid = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request()).ResponseAsync.DefaultTimeout());
            Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        }

        mesh.Fake.HoldCalls();
        var holding = mesh.BuildReport(Request(Good)).ResponseAsync;
        await mesh.Fake.WhenArrivedAsync(1).DefaultTimeout();
        for (var i = 0; i < 6; i++)
        {
            var shed = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());
            Assert.Equal(MeshRejectReasons.QueueFull, shed.Trailers.GetValue(MeshMetadata.RejectReason));
        }

        mesh.Fake.ReleaseCalls();
        await holding.DefaultTimeout();
        mesh.Fake.Gate = null;

        // Act 2: three reports fail on payments. Samples: 1 completed + 3 failed = 4, 0.75 ≥ 0.5. Had the 12 refusals above
        // been counted as successes (Polly's default for what it does not handle), it would be 3 of 16 and stay closed.
        await FailReportsAsync(mesh, 3);
        var next = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(1, events.Count(BreakerEvents.Opened));
        Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, next.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task BuildReport_ReportBreakerDisabled_PassThrough()
    {
        // Arrange: the negative control: the same failing reports, breaker off (the payments breaker too, or it would open).
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartWithSheddingAccountAsync(clock, events, settings: new()
        {
            ["Reporting:ReportBreaker:Enabled"] = "false",
            ["Reporting:PaymentsBreaker:Enabled"] = "false",
        });

        // Act: 5 × the minimum throughput, every one failed on payments, then one that payments would answer.
        await FailReportsAsync(mesh, 20);
        var callsBefore = mesh.Fake.Calls.Count;
        var next = await mesh.BuildReport(Request(Good)).ResponseAsync.DefaultTimeout();

        // Assert: every report reached payments (FailReportsAsync checked each status); nothing opened.
        Assert.True(callsBefore >= 20, $"{callsBefore} calls");
        Assert.Equal(100, next.TotalMinor);
        Assert.Equal(callsBefore + 1, mesh.Fake.Calls.Count);
        Assert.Equal(0, events.Count(BreakerEvents.Opened));
    }

    // ---- Helpers ----

    /// <summary>
    /// A reporting host whose report breaker opens at half of at least 4 reports in 5 s for 3 s, the payments breaker left
    /// at its defaults (20 attempts: these tests stay below), on <paramref name="clock"/>; payments answers
    /// <see cref="Good"/> and sheds every call for <see cref="Shed"/>.
    /// </summary>
    private static async Task<ReportingTestHost> StartWithSheddingAccountAsync(
        TimeProvider clock, BreakerEvents events, BreakerEvents? moreEvents = null, Dictionary<string, string?>? settings = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Reporting:ReportBreaker:FailureRatio"] = "0.5",
            ["Reporting:ReportBreaker:MinimumThroughput"] = "4",
            ["Reporting:ReportBreaker:SamplingDuration"] = "00:00:05",
            ["Reporting:ReportBreaker:BreakDuration"] = "00:00:03",
            // Long enough that the fake clock's advances never exhaust a report's deadline.
            ["Deadlines:Methods:/meshbulkheads.reporting.v1.ReportingService/:Default"] = "00:00:30",
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        var mesh = await StartAsync(configuration, builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(clock);
            builder.Services.Configure<TelemetryOptions>(o =>
            {
                o.TelemetryListeners.Add(events.Listener);
                if (moreEvents is not null)
                {
                    o.TelemetryListeners.Add(moreEvents.Listener);
                }
            });
        });
        mesh.Fake.AddAccounts(5);
        mesh.Fake.Failure = (account, _) => account == Shed ? ShedCall() : null;
        return mesh;
    }

    /// <summary><paramref name="count"/> reports of <see cref="Shed"/>, one after another, each failing with payments' status.</summary>
    private static async Task FailReportsAsync(ReportingTestHost mesh, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(Shed)).ResponseAsync.DefaultTimeout());
            Assert.Equal(MeshRejectReasons.Downstream(StatusCode.Unavailable), error.Trailers.GetValue(MeshMetadata.RejectReason));
        }
    }

    /// <summary>What payments' bulkheads answer when they shed (pushback 1 ms, so the client's retries do not wait).</summary>
    private static RpcException ShedCall() =>
        new(new Status(StatusCode.Unavailable, "queue full"), new Metadata { { "grpc-retry-pushback-ms", "1" }, { "x-mesh-reject-reason", "queue-full" } });

    private static long Pushback(RpcException error) =>
        long.Parse(error.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, CultureInfo.InvariantCulture);
}
