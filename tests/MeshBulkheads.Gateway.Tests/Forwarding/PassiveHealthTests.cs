using MeshBulkheads.Gateway.Forwarding;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>
/// Passive health never takes a route's only destination out for failures a caller can provoke, still
/// ejects one that cannot be reached, and ejects for the stated 10 s (not YARP's silent 60 s).
/// </summary>
public class PassiveHealthTests
{
    [Fact]
    public async Task GetBalance_SingleDestinationAnswersOverTheHeaderLimit_NotEjectedAndOtherCallsServed()
    {
        // Arrange: one tenant's calls come back with a 100 KB grpc-message (over the gateway's 64 KB
        // response-header limit): transport failures at the gateway, caused by the caller's input.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        payments.OnCall = (call, _) => ((GetBalanceRequest)call.Request).AccountId == "acct-huge"
            ? throw new RpcException(new Status(StatusCode.NotFound, new string('x', 100_000)))
            : Task.CompletedTask;
        await using var gateway = await GatewayHost.StartAsync(payments.Address, payments.Address, payments.Address);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act: well past YARP's minimum of 10 calls, every one a failure.
        for (var i = 0; i < 15; i++)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
                new GetBalanceRequest { AccountId = "acct-huge" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
            Assert.NotEqual(StatusCode.OK, failure.StatusCode);
        }

        var reply = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal("acct-0001", reply.AccountId);
        Assert.NotEqual(DestinationHealth.Unhealthy, PaymentsDestination(gateway).Health.Passive);
    }

    [Fact]
    public async Task GetBalance_SingleDestinationRefusesConnections_EjectedByPassiveHealth()
    {
        // Arrange: nothing listens; active probes off so only passive health can eject.
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false",
        });
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        for (var i = 0; i < 12 && PaymentsDestination(gateway).Health.Passive != DestinationHealth.Unhealthy; i++)
        {
            await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
                new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        }

        // Assert
        Assert.Equal(DestinationHealth.Unhealthy, PaymentsDestination(gateway).Health.Passive);
    }

    [Fact]
    public async Task Options_Shipped_EjectionLastsTheStatedTenSeconds()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed);
        var window = gateway.Services.GetRequiredService<IOptions<TransportFailureRateHealthPolicyOptions>>().Value;
        var state = gateway.Services.GetRequiredService<IProxyStateLookup>();

        // Act
        var clusters = new[] { "payments", "reporting", "render" }.Select(id =>
        {
            Assert.True(state.TryGetCluster(id, out var cluster));
            return cluster.Model.Config.HealthCheck!.Passive!;
        }).ToList();

        // Assert: YARP ejects for max(ReactivationPeriod, DetectionWindowSize); both are 10 s.
        Assert.Equal(TimeSpan.FromSeconds(10), window.DetectionWindowSize);
        Assert.Equal(10, window.MinimalTotalCountThreshold);
        Assert.Equal(0.3, window.DefaultFailureRateLimit);
        Assert.All(clusters, passive =>
        {
            Assert.Equal(MeshPassiveHealthPolicy.PolicyName, passive.Policy);
            Assert.Equal(TimeSpan.FromSeconds(10), passive.ReactivationPeriod);
        });
    }

    private static DestinationState PaymentsDestination(KestrelHost gateway)
    {
        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("payments", out var cluster));
        return Assert.Single(cluster.Destinations.Values);
    }
}
