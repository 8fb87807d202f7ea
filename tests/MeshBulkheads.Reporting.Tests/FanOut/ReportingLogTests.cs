using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using static MeshBulkheads.Reporting.Tests.ReportingTestHost;

namespace MeshBulkheads.Reporting.Tests.FanOut;

/// <summary>An abandoned report is logged once through <c>ReportingLog</c>, by event name and level.</summary>
public sealed class ReportingLogTests
{
    [Fact]
    public async Task BuildReport_DownstreamUnavailable_LogsDownstreamCallFailedOnceAtWarning()
    {
        // Arrange: payments fails every balance of a three-account report.
        await using var mesh = await StartLoggedAsync([]);
        mesh.Fake.AddAccounts(3);
        mesh.Fake.Failure = (_, _) => new RpcException(new Status(StatusCode.Unavailable, "payments overloaded"));

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => mesh.BuildReport(Request("acct-0001", "acct-0002", "acct-0003")).ResponseAsync);

        // Assert: one line for the report (its first failure), none for the calls it cancelled.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        var line = Assert.Single(Lines(mesh), r => r.Id.Name == "DownstreamCallFailed");
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains(line.StructuredState!, kv => kv.Key == "Status" && kv.Value == nameof(StatusCode.Unavailable));
        Assert.Contains(line.StructuredState!, kv => kv.Key == "Accounts" && kv.Value == "3");
        Assert.Single(Lines(mesh));
    }

    [Fact]
    public async Task BuildReport_BudgetBelowMinimum_LogsDownstreamBudgetExhaustedAtDebug()
    {
        // Arrange: 10 s left, but every downstream call needs at least 20 s.
        await using var mesh = await StartLoggedAsync(MinimumBudgetAboveRemaining());

        // Act
        var error = await mesh.BuildReportBelowMinimumBudgetAsync();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        var line = Assert.Single(Lines(mesh));
        Assert.Equal("DownstreamBudgetExhausted", line.Id.Name);
        Assert.Equal(LogLevel.Debug, line.Level);
    }

    [Fact]
    public async Task BuildReport_AllBalancesReturned_LogsNothing()
    {
        // Arrange
        await using var mesh = await StartLoggedAsync([]);
        mesh.Fake.AddAccounts(2);

        // Act
        var report = await mesh.BuildReport(Request("acct-0001", "acct-0002"));

        // Assert
        Assert.Equal(2, report.Accounts.Count);
        Assert.Empty(Lines(mesh));
    }

    private static Task<ReportingTestHost> StartLoggedAsync(Dictionary<string, string?> configuration)
    {
        // KestrelHost logs at Warning by default; the fan-out's own lines are wanted down to Debug.
        configuration["Logging:LogLevel:MeshBulkheads.Reporting"] = "Debug";
        return StartAsync(configuration, b => b.Services.AddFakeLogging());
    }

    private static List<FakeLogRecord> Lines(ReportingTestHost mesh) =>
        [.. mesh.Host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "MeshBulkheads.Reporting.FanOut.ReportFanOut")];
}
