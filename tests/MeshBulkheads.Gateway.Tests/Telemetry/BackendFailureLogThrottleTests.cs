using MeshBulkheads.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Gateway.Tests.Telemetry;

/// <summary>Per-call backend failure lines (with stack traces) are rate-limited: the first per interval, the rest counted.</summary>
public class BackendFailureLogThrottleTests
{
    [Fact]
    public void ShouldLog_ManyFailuresInOneInterval_FirstLoggedRestCountedIntoTheNextLine()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10));

        // Act
        var first = throttle.ShouldLog("payments|payments|Request", out var firstSuppressed);
        var within = Enumerable.Range(0, 99).Count(_ => throttle.ShouldLog("payments|payments|Request", out long _));
        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        var justBefore = throttle.ShouldLog("payments|payments|Request", out _);
        time.Advance(TimeSpan.FromTicks(1));
        var next = throttle.ShouldLog("payments|payments|Request", out var nextSuppressed);

        // Assert
        Assert.True(first);
        Assert.Equal(0, firstSuppressed);
        Assert.Equal(0, within);
        Assert.False(justBefore);
        Assert.True(next);
        Assert.Equal(100, nextSuppressed);
    }

    [Fact]
    public void ShouldLog_DifferentKeys_EachLoggedOncePerInterval()
    {
        // Arrange
        var throttle = new LogThrottle(new FakeTimeProvider(), TimeSpan.FromSeconds(10));

        // Act
        var payments = throttle.ShouldLog("payments|payments|Request", out _);
        var render = throttle.ShouldLog("render|render|Request", out _);
        var paymentsAgain = throttle.ShouldLog("payments|payments|Request", out _);

        // Assert
        Assert.True(payments);
        Assert.True(render);
        Assert.False(paymentsAgain);
    }

    [Fact]
    public async Task GetBalance_BackendDownManyCalls_OneBackendFailureLineWithTheException()
    {
        // Arrange: the throttle's clock never moves, so every call falls in one interval.
        var closed = GatewayHost.ClosedPort();
        var settings = GatewayHost.Settings(closed, closed, closed, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false",
            ["ReverseProxy:Clusters:payments:HealthCheck:Passive:Enabled"] = "false",
            ["Logging:LogLevel:MeshBulkheads.Gateway"] = "Information",
        });
        await using var gateway = await KestrelHost.StartAsync(GatewayApp.Build, settings, builder =>
        {
            builder.Logging.AddFakeLogging();
            builder.Services.AddSingleton(new LogThrottle(new FakeTimeProvider(), TimeSpan.FromSeconds(10)));
        });
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        for (var i = 0; i < 5; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
                new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        }

        // Assert
        var lines = gateway.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Name == "BackendFailure").ToList();
        var line = Assert.Single(lines);
        Assert.NotNull(line.Exception);
        Assert.Equal(LogLevel.Warning, line.Level);
    }
}
