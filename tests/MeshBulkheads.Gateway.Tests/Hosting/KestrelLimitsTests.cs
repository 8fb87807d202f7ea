using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.Hosting;

/// <summary>The public port's connection limits come from the shipped configuration (Kestrel:Limits) and hold.</summary>
public class KestrelLimitsTests
{
    [Fact]
    public async Task Start_ShippedConfiguration_ConnectionStreamAndKeepAliveLimitsApplied()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(closed, closed, closed);

        // Act
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        // Assert
        Assert.Equal(4096, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(30), limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.Http2.KeepAlivePingTimeout);
    }

    [Fact]
    public async Task GetBalance_OneConnectionOverTheLimit_RefusedWhileTheOpenOnesKeepServing()
    {
        // Arrange: a limit of two connections, both held open by a channel that has made a call.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, new Dictionary<string, string?> { ["Kestrel:Limits:MaxConcurrentConnections"] = "2" });
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        var clients = Enumerable.Range(0, 3).Select(_ => new PaymentsService.PaymentsServiceClient(gateway.CreateChannel())).ToList();
        Task<GetBalanceResponse> CallAsync(int client) =>
            clients[client].GetBalanceAsync(request, DemoTenants.Headers(DemoTenants.AcmeKey), cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        await CallAsync(0);
        await CallAsync(1);

        // Act
        var third = await Assert.ThrowsAsync<RpcException>(() => CallAsync(2));
        await CallAsync(0);
        await CallAsync(1);

        // Assert: the third connection was closed by the server; the first two still serve.
        Assert.Equal(StatusCode.Unavailable, third.StatusCode);
        Assert.Equal(4, payments.Calls.Count);
    }
}
