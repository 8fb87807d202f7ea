using Grpc.Core;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;

namespace MeshBulkheads.Reporting.Tests.Grpc;

public class ReportingGrpcServiceTests
{
    [Fact]
    public async Task BuildReport_KnownAccounts_ReturnsSummariesInRequestOrderAndTotal()
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
        Assert.Equal(850, response.TotalMinor);
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
    public async Task BuildReport_DownstreamUnavailableWithPushback_UnavailableWithReasonButNoPushback()
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
        Assert.Null(error.Trailers.Get("grpc-retry-pushback-ms"));
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
    [InlineData(null, "Sheddable", "sheddable")] // Bulkheads:DefaultCriticality
    [InlineData("critical", "Sheddable", "critical")] // a sent value always wins
    public async Task BuildReport_TenantAndCriticality_ForwardedOnEveryCall(string? sent, string? configuredDefault, string forwarded)
    {
        // Arrange
        await using var mesh = await StartAsync(new() { ["Bulkheads:DefaultCriticality"] = configuredDefault });
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
