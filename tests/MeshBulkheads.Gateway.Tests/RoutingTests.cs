using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Forwarding.Internal;
using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Gateway.Tests;

public class RoutingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task PaymentsMethods_WithKey_ReachPaymentsBackend()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var account = "acct-" + Guid.NewGuid().ToString("N");
        var charge = new ChargeRequest { AccountId = account, AmountMinor = 100, Currency = "USD", IdempotencyKey = account };
        var balance = new GetBalanceRequest { AccountId = account };
        var list = new ListPaymentsRequest { AccountId = account, PageSize = 5 };

        // Act
        var charged = await client.ChargeAsync(charge, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        var balanced = await client.GetBalanceAsync(balance, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        await client.ListPaymentsAsync(list, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal("pay-" + account, charged.PaymentId);
        Assert.Equal(account, balanced.AccountId);
        Assert.Equal("Charge", Assert.Single(fixture.Payments.CallsFor(charge)).Method);
        Assert.Equal("GetBalance", Assert.Single(fixture.Payments.CallsFor(balance)).Method);
        Assert.Equal("ListPayments", Assert.Single(fixture.Payments.CallsFor(list)).Method);
    }

    [Fact]
    public async Task BuildReport_WithKey_ReachesReportingBackend()
    {
        // Arrange
        var client = new ReportingService.ReportingServiceClient(fixture.Gateway.CreateChannel());
        var request = new BuildReportRequest { AccountIds = { "acct-" + Guid.NewGuid().ToString("N") } };

        // Act
        var response = await client.BuildReportAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(request.AccountIds[0], Assert.Single(response.Accounts).AccountId);
        Assert.Equal("BuildReport", Assert.Single(fixture.Reporting.CallsFor(request)).Method);
        Assert.Empty(fixture.Payments.CallsFor(request));
    }

    [Fact]
    public async Task Render_WithKey_ReachesRenderBackend()
    {
        // Arrange
        var client = new RenderService.RenderServiceClient(fixture.Gateway.CreateChannel());
        var request = new RenderRequest { Width = 17, Height = 19, Iterations = Random.Shared.Next(1, 1_000_000) };

        // Act
        var response = await client.RenderAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal($"17x19x{request.Iterations}", response.Sha256);
        Assert.Equal("Render", Assert.Single(fixture.Render.CallsFor(request)).Method);
    }

    [Fact]
    public async Task GetBalance_BackendReturnsNotFoundWithTrailers_PassesThroughUnchanged()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "missing-" + Guid.NewGuid().ToString("N") };
        fixture.Payments.OnCall = (call, _) => call.Request.Equals(request)
            ? throw new RpcException(new Status(StatusCode.NotFound, $"account '{request.AccountId}' not found"), new Metadata { { "x-custom", "kept" } })
            : Task.CompletedTask;

        try
        {
            // Act
            var error = await Assert.ThrowsAsync<RpcException>(
                () => client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

            // Assert
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
            Assert.Equal($"account '{request.AccountId}' not found", error.Status.Detail);
            Assert.Equal("kept", error.Trailers.GetValue("x-custom"));
            Assert.Null(error.Trailers.GetValue(MeshMetadata.RejectReason));
        }
        finally
        {
            fixture.Payments.OnCall = null;
        }
    }

    [Fact]
    public void Services_ForwarderClientFactory_IsTheGatewaysOwn()
    {
        // Arrange
        var services = fixture.Gateway.Services;

        // Act
        var factory = services.GetRequiredService<IForwarderHttpClientFactory>();

        // Assert: registered before AddReverseProxy, so connect timeout and keepalive pings apply.
        Assert.IsType<GatewayForwarderHttpClientFactory>(factory);
        Assert.Equal(TimeSpan.FromSeconds(5), services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BackendConnectionOptions>>().Value.ConnectTimeout);
    }
}
