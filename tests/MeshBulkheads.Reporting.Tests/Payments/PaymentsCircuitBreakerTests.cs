using System.Diagnostics;
using System.Net;
using Grpc.Net.Client.Balancer;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.Payments;
using MeshBulkheads.Reporting.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Polly.Telemetry;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;

namespace MeshBulkheads.Reporting.Tests.Payments;

/// <summary>
/// The circuit breaker on reporting's payments client: what counts as a failure, the refusal while open, and the whole
/// cycle closed → open → half-open → closed on a fake clock against a shedding and a killed payments.
/// </summary>
public sealed class PaymentsCircuitBreakerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(3);

    /// <summary>The payments breaker's Polly <c>strategy.name</c>, spelled out: the events counted are this breaker's only.</summary>
    private const string StrategyName = "payments-circuit-breaker";

    /// <summary>The client factory's name of reporting's payments client (AddGrpcClient names it after the type).</summary>
    private const string PaymentsClientName = nameof(MeshBulkheads.Contracts.Payments.V1.PaymentsService.PaymentsServiceClient);

    // ---- What counts (the predicate alone) ----

    [Theory]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.ResourceExhausted, true)]
    [InlineData(StatusCode.NotFound, false)]
    [InlineData(StatusCode.InvalidArgument, false)]
    [InlineData(StatusCode.DeadlineExceeded, false)]
    [InlineData(StatusCode.Internal, false)]
    [InlineData(StatusCode.Unauthenticated, false)]
    [InlineData(StatusCode.OK, false)]
    public void IsFailure_TrailersOnlyGrpcStatus_OnlyUnavailableAndResourceExhaustedCount(StatusCode status, bool counted)
    {
        // Arrange: HTTP 200 with grpc-status in the headers, as a shedding bulkhead answers.
        using var response = new HttpResponseMessage(HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("grpc-status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Act
        var failure = PaymentsCircuitBreaker.IsFailure(Outcome.FromResult(response), CancellationToken.None);

        // Assert
        Assert.Equal(counted, failure);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK, false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.GatewayTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    public void IsFailure_HttpStatusWithoutGrpcStatus_CountsWhatGrpcMapsToUnavailable(HttpStatusCode code, bool counted)
    {
        // Arrange: no grpc-status header (a normal response, or a proxy in the way answered).
        using var response = new HttpResponseMessage(code);

        // Act
        var failure = PaymentsCircuitBreaker.IsFailure(Outcome.FromResult(response), CancellationToken.None);

        // Assert
        Assert.Equal(counted, failure);
    }

    [Fact]
    public void IsFailure_TransportExceptionOrCallerCancellation_OnlyTheTransportFailureCounts()
    {
        // Arrange
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        // Act
        var refused = PaymentsCircuitBreaker.IsFailure(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("Connection refused")), CancellationToken.None);
        var callerLeft = PaymentsCircuitBreaker.IsFailure(Outcome.FromException<HttpResponseMessage>(new OperationCanceledException(cancelled.Token)), cancelled.Token);
        var cancelledByNobody = PaymentsCircuitBreaker.IsFailure(Outcome.FromException<HttpResponseMessage>(new TaskCanceledException("connect timeout")), CancellationToken.None);

        // Assert: a cancellation the call did not ask for (a connect timeout) is the transport's failure.
        Assert.True(refused);
        Assert.False(callerLeft);
        Assert.True(cancelledByNobody);
    }

    [Theory]
    [InlineData(null, 3000)]
    [InlineData(1200.0, 1200)]
    [InlineData(0.0, 1)]
    [InlineData(-5.0, 1)]
    [InlineData(60_000.0, 3000)]
    public void Pushback_RetryAfter_BoundedToOneMillisecondAndTheBreak(double? retryAfterMs, long expectedMs)
    {
        // Arrange
        var broken = retryAfterMs is { } ms ? new BrokenCircuitException(TimeSpan.FromMilliseconds(ms)) : new BrokenCircuitException();

        // Act
        var pushback = PaymentsCircuitBreaker.Pushback(broken, BreakDuration);

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), pushback);
    }

    [Fact]
    public void TryGetBrokenCircuit_WrappedByGrpc_FoundThroughTheInnerChainOrTheDebugException()
    {
        // Arrange: grpc-dotnet's shape (status + debug exception), and a doubly wrapped one.
        var broken = new BrokenCircuitException(TimeSpan.FromSeconds(1));
        var asDebug = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.", broken));
        var nested = new InvalidOperationException("outer", new HttpRequestException("mid", broken));
        var other = new RpcException(new Status(StatusCode.Unavailable, "shed", new HttpRequestException("refused")));

        // Act + Assert
        Assert.True(PaymentsCircuitBreaker.TryGetBrokenCircuit(asDebug, out var found1));
        Assert.Same(broken, found1);
        Assert.True(PaymentsCircuitBreaker.TryGetBrokenCircuit(nested, out var found2));
        Assert.Same(broken, found2);
        Assert.False(PaymentsCircuitBreaker.TryGetBrokenCircuit(other, out _));
    }

    // ---- Options ----

    [Fact]
    public void Options_Defaults_HalfOfTwentyInFiveSecondsAndAThreeSecondBreak()
    {
        // Act
        var options = new ReportingOptions().PaymentsBreaker;

        // Assert
        Assert.True(options.Enabled);
        Assert.Equal(0.5, options.FailureRatio);
        Assert.Equal(20, options.MinimumThroughput);
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
            [$"Reporting:PaymentsBreaker:{key}"] = value,
        }));

        // Assert
        Assert.Contains($"PaymentsBreaker.{key}", error.Message, StringComparison.Ordinal);
    }

    // ---- The cycle against a shedding payments ----

    [Fact]
    public async Task BuildReport_PaymentsShedsTrailersOnly_OpensRefusesWithoutCallsThenOneProbeCloses()
    {
        // Arrange: payments sheds every call as its bulkheads do (UNAVAILABLE before any message: Trailers-Only).
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartAsync(BreakerSettings(), WithBreakerTelemetry(clock, events));
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => Shed();
        using var spans = new ReportSpans();

        // Act 1: reports until the breaker opens (4 failed attempts; retries above the breaker are attempts too).
        var opening = await ReportsUntilCircuitOpenAsync(mesh.Client);
        var callsWhenOpened = mesh.Fake.Calls.Count;
        TestContext.Current.TestOutputHelper?.WriteLine($"payments saw {callsWhenOpened} attempts before the breaker opened");

        // Assert 1: refused at once with the reason and the whole break as pushback; the span says so.
        Assert.Equal(StatusCode.Unavailable, opening.StatusCode);
        Assert.InRange(Pushback(opening), 1, (long)BreakDuration.TotalMilliseconds);
        Assert.InRange(callsWhenOpened, 4, 12);
        Assert.Equal(1, events.Count(BreakerEvents.Opened));
        // The server span ends just after the response is written: wait for it rather than race it.
        await Conditions.WaitUntilAsync(() => spans.CircuitOpenEvents().Any());
        Assert.Contains(spans.CircuitOpenEvents(), e => e.Tags.Any(t => t.Key == PaymentsCircuitBreaker.PushbackTag));
        // The status grpc-dotnet picks for the handler's BrokenCircuitException: INTERNAL (not retried), the refusal inside.
        var direct = await Assert.ThrowsAsync<RpcException>(() => mesh.Host.Services.GetRequiredService<MeshBulkheads.Contracts.Payments.V1.PaymentsService.PaymentsServiceClient>()
            .GetBalanceAsync(new() { AccountId = "acct-0001" }, cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout());
        Assert.Equal(StatusCode.Internal, direct.StatusCode);
        Assert.True(PaymentsCircuitBreaker.TryGetBrokenCircuit(direct, out _));
        Assert.Equal(callsWhenOpened, mesh.Fake.Calls.Count);
        using var admin = mesh.Host.CreateAdminClient();
        var scraped = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Contains("resilience_polly_strategy_events_total{", scraped, StringComparison.Ordinal);
        Assert.Contains("event_name=\"OnCircuitOpened\"", scraped, StringComparison.Ordinal);

        // Act 2: one second of the break passes; more reports, and payments recovers (the breaker cannot know).
        clock.Advance(TimeSpan.FromSeconds(1));
        mesh.Fake.Failure = null;
        var whileOpen = new List<RpcException>();
        for (var i = 0; i < 5; i++)
        {
            whileOpen.Add(await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout()));
        }

        // Assert 2: every one refused UNAVAILABLE downstream-circuit-open, pushback ≤ the 2 s left, and payments saw none.
        Assert.All(whileOpen, e =>
        {
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.InRange(Pushback(e), 1, 2000);
        });
        Assert.Equal(callsWhenOpened, mesh.Fake.Calls.Count);

        // Act 3: the break ends; the next report is the half-open probe, and the one after it runs closed.
        clock.Advance(BreakDuration - TimeSpan.FromSeconds(1));
        var probe = await mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout();
        var afterProbe = await mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout();

        // Assert 3: exactly one call each, and the transitions in Polly's metrics.
        Assert.Equal(100, probe.TotalMinor);
        Assert.Equal(100, afterProbe.TotalMinor);
        Assert.Equal(callsWhenOpened + 2, mesh.Fake.Calls.Count);
        Assert.Equal(1, events.Count(BreakerEvents.Opened));
        Assert.Equal(1, events.Count(BreakerEvents.HalfOpened));
        Assert.Equal(1, events.Count(BreakerEvents.Closed));
    }

    [Fact]
    public async Task BuildReport_HalfOpenProbeFails_OpensForAnotherBreak()
    {
        // Arrange: opened by shedding; the break passes but payments still sheds.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartAsync(BreakerSettings(), WithBreakerTelemetry(clock, events));
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => Shed();
        await ReportsUntilCircuitOpenAsync(mesh.Client);
        clock.Advance(BreakDuration);
        var callsBeforeProbe = mesh.Fake.Calls.Count;

        // Act: the probe fails; the next report is refused again without a call.
        var probe = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout());
        var next = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout());

        // Assert: the probe reached payments (its retry, if any, hit the reopened breaker); nothing after it did.
        Assert.Equal(callsBeforeProbe + 1, mesh.Fake.Calls.Count);
        Assert.Equal(StatusCode.Unavailable, probe.StatusCode);
        Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, next.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(2, events.Count(BreakerEvents.Opened));
        Assert.Equal(1, events.Count(BreakerEvents.HalfOpened));
        Assert.Equal(0, events.Count(BreakerEvents.Closed));
    }

    // ---- The cycle against a killed payments ----

    [Fact]
    public async Task BuildReport_PaymentsKilled_InFlightFailuresOpenItThenItRefusesUntilTheProbeCloses()
    {
        // Arrange: a working payments holding four calls when it is killed (connections aborted, then refused), on a
        // port it can come back to; a handler just below the breaker counts the attempts that reach the HTTP chain.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        var payments = await FakePaymentsServer.StartAsync();
        var service = payments.Service;
        var port = payments.Address.Port;
        service.AddAccounts(1);
        var attempts = new System.Collections.Concurrent.ConcurrentQueue<Uri>();
        await using var host = await KestrelHost.StartAsync(
            ReportingApp.Build,
            new Dictionary<string, string?>(BreakerSettings()) { ["Reporting:PaymentsAddress"] = payments.Address.ToString() },
            builder =>
            {
                WithBreakerTelemetry(clock, events)(builder);
                builder.Services.AddHttpClient(PaymentsClientName).AddHttpMessageHandler(() => new RecordingHandler(attempts));
            });
        var client = new ReportingService.ReportingServiceClient(host.CreateChannel());
        service.HoldCalls();
        var held = Enumerable.Range(0, 4).Select(_ => client.BuildReportAsync(
            Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync).ToArray();
        await service.WhenArrivedAsync(4).DefaultTimeout();

        try
        {
            // Act 1: payments dies with four attempts in flight: four transport failures, the minimum throughput.
            await payments.KillAsync();
            var failed = await Task.WhenAll(held.Select(r => Assert.ThrowsAsync<RpcException>(() => r.DefaultTimeout())));

            // Assert 1: the breaker opened; every held report failed UNAVAILABLE (payments' death, or its retry refused).
            Assert.All(failed, e => Assert.Equal(StatusCode.Unavailable, e.StatusCode));
            Assert.Equal(1, events.Count(BreakerEvents.Opened));

            // Act 2: while payments is down, more reports.
            var attemptsWhileDown = attempts.Count;
            var whileDown = new List<RpcException>();
            for (var i = 0; i < 5; i++)
            {
                whileDown.Add(await Assert.ThrowsAsync<RpcException>(() => client.BuildReportAsync(
                    Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout()));
            }

            // Assert 2: UNAVAILABLE at once, and none even reached the HTTP chain: with no connection, grpc-dotnet's balancer
            // fails the pick above the breaker ("Error connecting to subchannel"), so a dead payments is never sampled.
            Assert.All(whileDown, e => Assert.Equal(StatusCode.Unavailable, e.StatusCode));
            Assert.Equal(attemptsWhileDown, attempts.Count);

            // Act 3: payments comes back on its port; once the channel has reconnected (its own backoff, real time), the
            // attempts reach the breaker again, which is still open: refused without a call.
            service.Gate = null;
            payments = await FakePaymentsServer.StartAsync(port, service);
            var callsAfterRestart = service.Calls.Count;
            var reconnecting = Stopwatch.StartNew();
            var refused = await ReportsUntilCircuitOpenAsync(client, untilReconnected: true);
            TestContext.Current.TestOutputHelper?.WriteLine($"the channel reconnected after {reconnecting.ElapsedMilliseconds} ms (real time)");

            // Assert 3
            Assert.Equal(MeshRejectReasons.DownstreamCircuitOpen, refused.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.InRange(Pushback(refused), 1, (long)BreakDuration.TotalMilliseconds);
            Assert.Equal(callsAfterRestart, service.Calls.Count);

            // Act 4: the break passes: one probe, then closed.
            clock.Advance(BreakDuration);
            var probe = await client.BuildReportAsync(Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();
            var afterProbe = await client.BuildReportAsync(Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();

            // Assert 4
            Assert.Equal(100, probe.TotalMinor);
            Assert.Equal(100, afterProbe.TotalMinor);
            Assert.Equal(callsAfterRestart + 2, service.Calls.Count);
            Assert.Equal(1, events.Count(BreakerEvents.HalfOpened));
            Assert.Equal(1, events.Count(BreakerEvents.Closed));
        }
        finally
        {
            await payments.DisposeAsync();
        }
    }

    // ---- What does not open it ----

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.InvalidArgument)]
    public async Task BuildReport_FloodOfCallerErrors_NeverOpens(StatusCode status)
    {
        // Arrange: every payments call fails with a status that says payments works (Trailers-Only too).
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartAsync(BreakerSettings(), WithBreakerTelemetry(clock, events));
        mesh.Fake.Failure = (_, _) => new RpcException(new Status(status, "caller's mistake"));

        // Act: 5 × the minimum throughput, every one failed.
        var errors = new List<RpcException>();
        for (var i = 0; i < 20; i++)
        {
            errors.Add(await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout()));
        }

        // Assert: every one reached payments and failed with its own status; the breaker stayed closed.
        Assert.Equal(20, mesh.Fake.Calls.Count);
        Assert.All(errors, e => Assert.Equal(status, e.StatusCode));
        Assert.All(errors, e => Assert.NotEqual(MeshRejectReasons.DownstreamCircuitOpen, e.Trailers.GetValue(MeshMetadata.RejectReason)));
        Assert.Equal(0, events.Count(BreakerEvents.Opened));
    }

    [Fact]
    public async Task BuildReport_DownstreamDeadlinesPass_NeverOpens()
    {
        // Arrange: payments holds every call, so each attempt ends by its gRPC deadline: the handler sees a cancellation
        // of the call's own token, which says nothing about payments' health. The real clock: these deadlines are real
        // (a frozen fake clock behind the real one made reporting compute downstream deadlines already in the past).
        var clock = TimeProvider.System;
        using var events = new BreakerEvents(StrategyName);
        await using var mesh = await StartAsync(BreakerSettings(), WithBreakerTelemetry(clock, events));
        mesh.Fake.AddAccounts(1);
        // One report first, so the connection to payments is open and no attempt spends its deadline connecting.
        await mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout();
        var before = mesh.Fake.Calls.Count;
        mesh.Fake.HoldCalls();

        // Act: twice the minimum throughput at once, each with 400 ms to live.
        var reports = Enumerable.Range(0, 8)
            .Select(_ => Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001"), deadline: DateTime.UtcNow.AddMilliseconds(400)).ResponseAsync.DefaultTimeout()))
            .ToArray();
        var errors = await Task.WhenAll(reports);
        mesh.Fake.ReleaseCalls();

        // Assert: all reached payments and ran out of time; the breaker stayed closed, and the next report gets through.
        Assert.All(errors, e => Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode));
        Assert.Equal(8, mesh.Fake.Calls.Count - before);
        Assert.Equal(0, events.Count(BreakerEvents.Opened));
        mesh.Fake.Gate = null;
        Assert.Equal(100, (await mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout()).TotalMinor);
    }

    [Fact]
    public async Task BuildReport_BreakerDisabled_SheddingPaymentsNeverOpens()
    {
        // Arrange: the negative control: the same shedding as above, breaker off.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        using var events = new BreakerEvents(StrategyName);
        var settings = BreakerSettings();
        settings["Reporting:PaymentsBreaker:Enabled"] = "false";
        await using var mesh = await StartAsync(settings, WithBreakerTelemetry(clock, events));
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => Shed();

        // Act
        var errors = new List<RpcException>();
        for (var i = 0; i < 20; i++)
        {
            errors.Add(await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync.DefaultTimeout()));
        }

        // Assert: every report reached payments (retries included) and failed with payments' own status.
        Assert.All(errors, e => Assert.Equal("downstream-unavailable", e.Trailers.GetValue(MeshMetadata.RejectReason)));
        Assert.True(mesh.Fake.Calls.Count >= 20, $"{mesh.Fake.Calls.Count} calls");
        Assert.Equal(0, events.Count(BreakerEvents.Opened));
    }

    // ---- Where the breaker sits (balancing) ----

    [Fact]
    public async Task BuildReport_DnsAddressOverTwoPods_BalancedThroughTheBreakerWhichSeesEachPodsAddress()
    {
        // Arrange: two payments "pods" behind one dns: name (a static resolver stands in for DNS), and a handler just
        // below the breaker that records the URI each attempt is sent to.
        await using var pod1 = await FakePaymentsServer.StartAsync();
        await using var pod2 = await FakePaymentsServer.StartAsync();
        pod1.Service.AddAccounts(1);
        pod2.Service.AddAccounts(1);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<Uri>();
        await using var host = await KestrelHost.StartAsync(
            ReportingApp.Build,
            new Dictionary<string, string?> { ["Reporting:PaymentsAddress"] = "dns:///payments-headless:8081" },
            builder =>
            {
                builder.Services.RemoveAll<ResolverFactory>();
                builder.Services.AddSingleton<ResolverFactory>(new PodsResolverFactory(pod1.Address, pod2.Address));
                builder.Services.AddHttpClient(PaymentsClientName)
                    .AddHttpMessageHandler(() => new RecordingHandler(seen));
            });
        var client = new ReportingService.ReportingServiceClient(host.CreateChannel());

        // Act
        for (var i = 0; i < 6; i++)
        {
            await client.BuildReportAsync(Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();
        }

        // Assert: both pods got calls (round-robin still works), and below the channel's balancer the request URI is the
        // chosen pod's address, not the dns: name.
        Assert.NotEmpty(pod1.Service.Calls);
        Assert.NotEmpty(pod2.Service.Calls);
        Assert.Equal(6, seen.Count);
        Assert.All(seen, uri => Assert.Contains(uri.Port, new[] { pod1.Address.Port, pod2.Address.Port }));
        Assert.Equal(2, seen.Select(u => u.Port).Distinct().Count());
    }

    // ---- Helpers ----

    /// <summary>
    /// A small window so a test opens it in a few calls: half of at least 4 attempts in 5 s, a 3 s break. The report
    /// breaker is off: these tests are about the payments breaker alone (ReportCircuitBreakerTests drive the other one).
    /// </summary>
    private static Dictionary<string, string?> BreakerSettings() => new()
    {
        ["Reporting:ReportBreaker:Enabled"] = "false",
        ["Reporting:PaymentsBreaker:FailureRatio"] = "0.5",
        ["Reporting:PaymentsBreaker:MinimumThroughput"] = "4",
        ["Reporting:PaymentsBreaker:SamplingDuration"] = "00:00:05",
        ["Reporting:PaymentsBreaker:BreakDuration"] = "00:00:03",
        // Long enough that the fake clock's advances never exhaust a report's deadline.
        ["Deadlines:Methods:/meshbulkheads.reporting.v1.ReportingService/:Default"] = "00:00:30",
    };

    /// <summary>The host's clock is <paramref name="clock"/> (the breaker reads it from DI); Polly's events are tagged with this host.</summary>
    private static Action<WebApplicationBuilder> WithBreakerTelemetry(TimeProvider clock, BreakerEvents events) => builder =>
    {
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.Configure<TelemetryOptions>(o => o.TelemetryListeners.Add(events.Listener));
    };

    /// <summary>What payments' bulkheads answer when they shed (pushback 1 ms, so the client's retries do not wait).</summary>
    private static RpcException Shed() =>
        new(new Status(StatusCode.Unavailable, "queue full"), new Metadata { { "grpc-retry-pushback-ms", "1" }, { "x-mesh-reject-reason", "queue-full" } });

    private static long Pushback(RpcException error) =>
        long.Parse(error.Trailers.GetValue(MeshMetadata.RetryPushbackMs)!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// One-account reports, one after another, until one is refused by the open breaker: at most 30, or, with
    /// <paramref name="untilReconnected"/>, as many as it takes the channel to reconnect (polled every 50 ms, bounded
    /// by the default timeout: grpc-dotnet's reconnect backoff runs on the real clock).
    /// </summary>
    private static async Task<RpcException> ReportsUntilCircuitOpenAsync(ReportingService.ReportingServiceClient client, bool untilReconnected = false)
    {
        var timeout = Task.Delay(TaskTimeoutExtensions.DefaultTimeoutSpan, TestContext.Current.CancellationToken);
        for (var i = 0; untilReconnected || i < 30; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.BuildReportAsync(
                Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout());
            if (error.Trailers.GetValue(MeshMetadata.RejectReason) == MeshRejectReasons.DownstreamCircuitOpen)
            {
                return error;
            }

            if (untilReconnected)
            {
                Assert.False(timeout.IsCompleted, "The channel did not reconnect to payments in time.");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        throw new Xunit.Sdk.XunitException("The breaker did not open within 30 failed reports.");
    }

    /// <summary>Server spans of this test's reports that carry the breaker's event.</summary>
    private sealed class ReportSpans : IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public ReportSpans()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == "Microsoft.AspNetCore",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IEnumerable<ActivityEvent> CircuitOpenEvents() =>
            _stopped.SelectMany(a => a.Events).Where(e => e.Name == PaymentsCircuitBreaker.CircuitOpenEvent);

        public void Dispose() => _listener.Dispose();
    }

    private sealed class RecordingHandler(System.Collections.Concurrent.ConcurrentQueue<Uri> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Enqueue(request.RequestUri!);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Resolves the <c>dns</c> scheme to the given pods' addresses (both on 127.0.0.1, different ports).</summary>
    private sealed class PodsResolverFactory(params Uri[] pods) : ResolverFactory
    {
        public override string Name => PaymentsChannel.DnsScheme;

        public override Resolver Create(ResolverOptions options) =>
            new StaticResolverFactory(_ => [.. pods.Select(p => new BalancerAddress(p.Host, p.Port))]).Create(options);
    }
}
