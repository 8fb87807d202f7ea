using System.Diagnostics.Metrics;
using Grpc.AspNetCore.Server;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.Grpc;
using MeshBulkheads.Reporting.Payments;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;

namespace MeshBulkheads.Reporting.Tests.Grpc;

public class ReportingGrpcServiceTests
{
    [Fact]
    public async Task BuildReport_KnownAccounts_ReturnsSummariesInRequestOrderAndTotalPerCurrency()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(5);
        mesh.Fake.Accounts["acct-0002"] = (-50, 7, "EUR");

        // Act
        var response = await mesh.BuildReport(Request("acct-0005", "acct-0001", "acct-0003", "acct-0002"));

        // Assert
        Assert.Equal(["acct-0005", "acct-0001", "acct-0003", "acct-0002"], response.Accounts.Select(a => a.AccountId));
        Assert.Equal([500L, 100L, 300L, -50L], response.Accounts.Select(a => a.BalanceMinor));
        Assert.Equal([5L, 1L, 3L, 7L], response.Accounts.Select(a => a.PaymentCount));
        Assert.Equal(["USD", "USD", "USD", "EUR"], response.Accounts.Select(a => a.Currency));
        Assert.Equal([("EUR", -50L), ("USD", 900L)], response.Totals.Select(t => (t.Currency, t.TotalMinor)));
        // Two currencies: the deprecated single total is not set (it used to be 850, USD and EUR added up).
        Assert.Equal(0, response.TotalMinor);
    }

    [Fact]
    public async Task BuildReport_MixedCurrencies_OneTotalPerCurrencyOrderedByCode()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.Accounts["acct-0001"] = (100, 1, "USD");
        mesh.Fake.Accounts["acct-0002"] = (200, 1, "EUR");
        mesh.Fake.Accounts["acct-0003"] = (300, 1, "USD");
        mesh.Fake.Accounts["acct-0004"] = (-5, 1, "GBP");

        // Act
        var response = await mesh.BuildReport(Request("acct-0001", "acct-0002", "acct-0003", "acct-0004"));

        // Assert
        Assert.Equal([("EUR", 200L), ("GBP", -5L), ("USD", 400L)], response.Totals.Select(t => (t.Currency, t.TotalMinor)));
        Assert.Equal(0, response.TotalMinor);
    }

    [Fact]
    public async Task BuildReport_SingleCurrency_DeprecatedTotalEqualsTheOneCurrencyTotal()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(3, currency: "EUR");

        // Act
        var response = await mesh.BuildReport(Request("acct-0001", "acct-0002", "acct-0003"));

        // Assert
        var total = Assert.Single(response.Totals);
        Assert.Equal(("EUR", 600L), (total.Currency, total.TotalMinor));
        Assert.Equal(600, response.TotalMinor);
    }

    [Fact]
    public async Task BuildReport_MissingAccount_NotFoundNamingId()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(2);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001", "acct-9999", "acct-0002")).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("'acct-9999'", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildReport_DownstreamUnavailableWithPushback_UnavailableWithReasonAndDoNotRetryPushback()
    {
        // Arrange: payments is overloaded and asks for a (short) pushback on every attempt.
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => new RpcException(
            new Status(StatusCode.Unavailable, "payments overloaded"),
            new Metadata { { "grpc-retry-pushback-ms", "1" }, { "x-mesh-reject-reason", "queue-full" } });

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("'acct-0001'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("UNAVAILABLE", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("downstream-unavailable", error.Trailers.GetValue("x-mesh-reject-reason"));
        // gRFC A6: not payments' 1 ms, and not absent (absent still lets a client retry UNAVAILABLE): negative = do not retry.
        Assert.Equal("-1", error.Trailers.GetValue("grpc-retry-pushback-ms"));
    }

    [Fact]
    public async Task BuildReport_DownstreamUnavailable_RetryingClientMakesExactlyOneAttempt()
    {
        // Arrange: payments always answers UNAVAILABLE; the client retries UNAVAILABLE up to 5 times after 10 ms.
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => new RpcException(
            new Status(StatusCode.Unavailable, "payments overloaded"), new Metadata { { "grpc-retry-pushback-ms", "1" } });
        using var requests = new MetricCollector<long>(
            mesh.Host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        var retrying = new ReportingService.ReportingServiceClient(
            mesh.Host.CreateChannel(RetryingChannel.Options(StatusCode.Unavailable, maxAttempts: 5, backoff: TimeSpan.FromMilliseconds(10))));

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => retrying.BuildReportAsync(
            Request("acct-0001"), Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync);

        // Assert: one BuildReport reached reporting's bulkhead; payments saw only its own client's attempts.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(1, ReportingDecisions(requests));
        Assert.Equal(PaymentsClientConfig.MaxAttempts, mesh.Fake.AttemptsByAccount["acct-0001"]);
    }

    [Fact]
    public async Task BuildReport_DownstreamInternal_FailsWithDownstreamStatusAndReason()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        mesh.Fake.Failure = (_, _) => new RpcException(new Status(StatusCode.ResourceExhausted, "tenant quota"));

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001")).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("downstream-resource-exhausted", error.Trailers.GetValue("x-mesh-reject-reason"));
        // RESOURCE_EXHAUSTED is not retryable: one attempt.
        Assert.Equal(1, mesh.Fake.AttemptsByAccount["acct-0001"]);
    }

    public static TheoryData<string[], string> InvalidRequests => new()
    {
        { [], "account_ids is empty" },
        { ["acct-0001", "acct-0002", "acct-0003", "acct-0004"], "at most 3 are allowed" },
        { ["acct-0001", ""], "account_ids[1] is empty" },
        { ["acct-0001", "acct-0002", "acct-0001"], "account_ids[2] 'acct-0001' duplicates account_ids[0]" },
        { ["acct-0001", "acct 0002"], "account_ids[1] 'acct 0002' is not a valid account id" },
        // \z, not $: a final newline does not pass, and it is echoed as '?', never raw.
        { ["acct-0001\n"], "account_ids[0] 'acct-0001?' is not a valid account id" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task BuildReport_InvalidAccountIds_InvalidArgumentNamingProblem(string[] accountIds, string expected)
    {
        // Arrange
        await using var mesh = await StartAsync(new() { ["Reporting:MaxAccounts"] = "3" });
        mesh.Fake.AddAccounts(4);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(accountIds)).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(mesh.Fake.Calls);
    }

    [Theory]
    [InlineData("critical", null, "critical")]
    [InlineData("sheddable", null, "sheddable")]
    [InlineData(null, null, "critical")] // the library's default for a direct caller
    [InlineData(null, "Sheddable", "sheddable")] // Criticality:Default
    [InlineData("critical", "Sheddable", "critical")] // a sent value always wins
    public async Task BuildReport_TenantAndCriticality_ForwardedOnEveryCall(string? sent, string? configuredDefault, string forwarded)
    {
        // Arrange
        await using var mesh = await StartAsync(new() { ["Criticality:Default"] = configuredDefault });
        mesh.Fake.AddAccounts(3);

        // Act
        await mesh.BuildReport(Request("acct-0001", "acct-0002", "acct-0003"), Tenant("globex", sent));

        // Assert
        Assert.Equal(3, mesh.Fake.Calls.Count);
        Assert.All(mesh.Fake.Calls, c =>
        {
            Assert.Equal("globex", c.TenantId);
            Assert.Equal(forwarded, c.Criticality);
        });
    }

    [Fact]
    public async Task BuildReport_OneIdOverMaxAccounts_InvalidArgumentShortMessageAndNoReportingBulkheadDecision()
    {
        // Arrange: 101 valid, distinct ids (≈ 1.2 KB, well under the 13 KB receive limit), 100 allowed.
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        using var requests = new MetricCollector<long>(
            mesh.Host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");
        var ids = Enumerable.Range(1, 101).Select(i => $"acct-{i:00000}").ToArray();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(ids)).ResponseAsync);
        var decisionsForInvalid = ReportingDecisions(requests);
        // Control: a valid report is admitted through the same bulkhead, so the collector does see decisions.
        await mesh.BuildReport(Request("acct-0001"));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("account_ids has 101 ids; at most 100", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length < 200, error.Status.Detail);
        Assert.Equal(0, decisionsForInvalid);
        Assert.Equal(1, ReportingDecisions(requests));
        Assert.DoesNotContain(mesh.Fake.Calls, c => c.AccountId != "acct-0001");
    }

    public static TheoryData<string[]> OversizedRequests => new()
    {
        Enumerable.Range(1, 10_000).Select(i => $"acct-{i:00000}").ToArray(),
        new[] { "acct-0001", new string('a', 400 * 1024) },
    };

    [Theory]
    [MemberData(nameof(OversizedRequests))]
    public async Task BuildReport_MessageOverTheReceiveLimit_ResourceExhaustedBeforeParsingAndNoReportingBulkheadDecision(string[] ids)
    {
        // Arrange: 10,000 ids (≈ 120 KB) or one 400 KB id: over the limit computed from MaxAccounts (13 KB).
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        using var requests = new MetricCollector<long>(
            mesh.Host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request(ids)).ResponseAsync);

        // Assert: refused from the length prefix, with grpc-dotnet's short message; nothing admitted or called.
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.True(error.Status.Detail.Length < 200, error.Status.Detail);
        Assert.Equal(0, ReportingDecisions(requests));
        Assert.Empty(mesh.Fake.Calls);
    }

    public static TheoryData<string> OversizedOrControlIds => new()
    {
        new string('a', 4 * 1024),
        "acct-0001\n" + new string('x', 100),
        "acct-\r\nx-injected: 1",
    };

    [Theory]
    [MemberData(nameof(OversizedOrControlIds))]
    public async Task BuildReport_OversizedOrControlCharacterId_InvalidArgumentWithShortCleanMessage(string badId)
    {
        // Arrange: the bad id twice, so a duplicate check that ran first would echo it too.
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);
        using var requests = new MetricCollector<long>(
            mesh.Host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001", badId, badId)).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("account_ids[1]", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length <= 256, $"{error.Status.Detail.Length} characters");
        Assert.DoesNotContain(error.Status.Detail, char.IsControl);
        Assert.Equal(0, ReportingDecisions(requests));
        Assert.Empty(mesh.Fake.Calls);
    }

    [Fact]
    public async Task BuildReport_LongUnknownCriticality_InvalidArgumentEchoIsBounded()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(
            () => mesh.BuildReport(Request("acct-0001"), Tenant("acme", new string('u', 8 * 1024))).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("x-mesh-criticality", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length <= 256, $"{error.Status.Detail.Length} characters");
    }

    [Fact]
    public async Task AddReporting_ValidationInterceptor_RunsBeforeDeadlineAndBulkheadInterceptors()
    {
        // Arrange
        await using var mesh = await StartAsync();

        // Act
        var types = mesh.Host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.Interceptors.Select(r => r.Type).ToList();

        // Assert
        var validation = types.IndexOf(typeof(BuildReportValidationInterceptor));
        Assert.True(validation >= 0);
        Assert.True(validation < types.IndexOf(typeof(DeadlineInterceptor)), string.Join(", ", types.Select(t => t.Name)));
        Assert.True(validation < types.IndexOf(typeof(BulkheadInterceptor)), string.Join(", ", types.Select(t => t.Name)));
    }

    [Theory]
    [InlineData("reporting")]
    [InlineData("reporting-fanout")]
    public async Task ReportingBulkheads_Defaults_ExplicitTenantMaxShareOfHalf(string bulkhead)
    {
        // Arrange
        await using var mesh = await StartAsync();

        // Act
        var options = mesh.Host.Services.GetRequiredService<IOptionsMonitor<BulkheadOptions>>().Get(bulkhead);

        // Assert
        Assert.Equal(0.5, options.TenantMaxShare);
    }

    private static int ReportingDecisions(MetricCollector<long> requests) =>
        requests.GetMeasurementSnapshot().Count(m => (string?)m.Tags[BulkheadConstants.BulkheadTag] == "reporting");

    [Fact]
    public async Task BuildReport_NoTenant_UnauthenticatedAndNoDownstreamCall()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001"), new Metadata()).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Empty(mesh.Fake.Calls);
    }

    [Fact]
    public async Task BuildReport_UnknownCriticality_InvalidArgument()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.AddAccounts(1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001"), Tenant("acme", "urgent")).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("x-mesh-criticality", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildReport_TotalOverflows_FailedPrecondition()
    {
        // Arrange
        await using var mesh = await StartAsync();
        mesh.Fake.Accounts["a"] = (long.MaxValue, 1, "USD");
        mesh.Fake.Accounts["b"] = (1, 1, "USD");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("a", "b")).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("overflows", error.Status.Detail, StringComparison.Ordinal);
    }
}
